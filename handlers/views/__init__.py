"""Chat views: texts and keyboards that render use-case outcomes for Telegram.

Handlers parse, call one use case and hand its outcome to a view here; nothing in this package
reads the database or changes anything.
"""

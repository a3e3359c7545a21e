"""Shared kernel: clock, errors, parsing, text helpers. No aiogram, no database."""

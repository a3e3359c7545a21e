"""The dashboard: a Telegram Mini App served by the bot's own process (aiohttp, beside polling).

`app.py` builds the aiohttp application (pages, vendored static files, the JSON API), `auth.py`
checks Telegram's initData on every API call, `pages.py` renders the screens from the same use
cases the chat calls, in the person's language.
"""

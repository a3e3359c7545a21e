"""The dashboard: a Telegram Mini App served by the bot's own process (aiohttp, beside polling).

`app.py` builds the aiohttp application (pages, vendored static files, the JSON API), `auth.py`
checks Telegram's initData on every API call, `pages.py` renders the screens from the same use
cases the chat calls, in the person's language; `admin.py` and `admin_pages.py` are the
secretariat's screens and actions (each the use case of a chat command), `common.py` what they
all share (the application's keys, JSON answers, refusals on record).

`static/telegram-web-app.js` is Telegram's own script, vendored (no CDN): taken verbatim from
the npm package @twa-dev/sdk 8.0.2 (`src/telegram-web-apps.js`, MIT), which copies Telegram's
published telegram-web-app.js; replace it with a newer copy of Telegram's file as it is.
"""

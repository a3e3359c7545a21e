"""aiogram glue for handlers and features: i18n, middlewares, filters, menus, callbacks, and
the engine that builds a dialog's routers from its declared steps (dialogs.py)."""

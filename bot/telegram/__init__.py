"""aiogram glue for handlers and features: i18n, middlewares, filters, menus, callbacks."""

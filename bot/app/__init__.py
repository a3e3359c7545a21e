"""Composition root: settings, the factory (Bot, Dispatcher, outbox, scheduler), the CLI."""

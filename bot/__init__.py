"""Roadmap bot: collects status updates on the city's Road Map items through Telegram."""

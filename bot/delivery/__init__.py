"""The durable outbox's sending side: enqueueing, the worker and the rate limiter."""

"""The roadmap: departments and items, item views, and the demo data."""

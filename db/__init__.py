"""Database layer: SQLModel models, the async engine and sessions, query functions, migrations."""

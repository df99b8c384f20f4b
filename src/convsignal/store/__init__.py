"""Persistence: sqlmodel tables, engine set-up, alembic migrations and repository functions."""

"""Alembic migrations of the taizhang schema."""

"""Alembic migrations of the rectify database, run by `rectify db upgrade`."""

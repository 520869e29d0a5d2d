"""Persistence: one interface (:mod:`proxy.store.interface`), one SQLAlchemy Core
implementation over SQLite (default) and PostgreSQL, versioned migrations, and
encryption of provider credentials at rest.
"""

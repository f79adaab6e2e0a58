"""Which database the app talks to, and how a bad choice is explained.

``DATABASE_URL`` (or the settings' database URL) wins; otherwise the embedded server in the
data folder is used. Every way of getting this wrong ends in a ``UserFacingError`` that
names the problem without printing the password.
"""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from base.errors import UserFacingError

DATABASE_URL_ENV = "DATABASE_URL"


def configured_url() -> str | None:
    """The URL the user configured, or None for the embedded default."""
    value = os.environ.get(DATABASE_URL_ENV, "").strip()
    return value or None


def parse_database_url(raw: str, origin: str = DATABASE_URL_ENV) -> URL:
    """A SQLAlchemy URL using the psycopg 3 driver, or a clear error naming ``origin``."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UserFacingError(
            f"{origin} is not a valid database URL (expected something like "
            "postgresql://user:password@host:5432/dbname)."
        ) from None
    backend = url.get_backend_name()
    if backend not in ("postgresql", "postgres"):
        raise UserFacingError(
            f"{origin} points at a {backend!r} database; Infinite Player needs PostgreSQL "
            "with the pgvector extension."
        )
    if not url.database:
        raise UserFacingError(f"{origin} names no database (add /dbname to the URL).")
    return url.set(drivername="postgresql+psycopg")


def describe(url: URL) -> str:
    """Where a URL points, safe to print (no password)."""
    host = url.host or url.query.get("host") or "local socket"
    port = f":{url.port}" if url.port else ""
    return f"{url.username or ''}{'@' if url.username else ''}{host}{port}/{url.database}"

"""Accounts on this machine: the ``users`` row behind an email, and its profile.

Separate from the library (likes, playlists, history), which acts for a user already
known: these find or create that user, read what onboarding saved, and set the
server-side flags.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from base.errors import UserFacingError
from db.database import Database
from db.models import User

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Profile:
    id: uuid.UUID
    email: str
    preferences: dict[str, Any]
    premium: bool
    onboarding_completed: bool
    daily_count: int


def find_user(database: Database, email: str) -> uuid.UUID | None:
    with database.service_session() as s:
        return s.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))


def ensure_user(database: Database, email: str) -> uuid.UUID:
    """The id of the user with this email, creating the row when there is none."""
    email = email.strip()
    if not EMAIL.match(email):
        raise UserFacingError(f"“{email}” is not an email address.")
    existing = find_user(database, email)
    if existing is not None:
        return existing
    stmt = (
        insert(User).values(email=email).on_conflict_do_nothing(index_elements=["email"])
    ).returning(User.id)
    with database.service_session() as s:
        created = s.scalar(stmt)
    if created is not None:
        return created
    found = find_user(database, email)
    assert found is not None  # inserted concurrently by another process
    return found


def load_profile(database: Database, user_id: uuid.UUID) -> Profile:
    with database.user_session(user_id) as s:
        user = s.get(User, user_id)
        if user is None:
            raise UserFacingError("This profile no longer exists in the database.")
        return Profile(
            user.id,
            user.email,
            dict(user.preferences_profile or {}),
            bool(user.premium),
            bool(user.onboarding_completed),
            int(user.daily_count or 0),
        )


def set_premium(database: Database, user_id: uuid.UUID, premium: bool) -> None:
    """Premium is a server-side flag; only the service role may change it."""
    with database.service_session() as s:
        s.execute(update(User).where(User.id == user_id).values(premium=bool(premium)))

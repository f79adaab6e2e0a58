"""Where the radio's listener model lives between sessions: ``public.listener_models``.

One row per user (``migrations/20261129100000_listener_models.sql``). The model is kept
as an opaque JSON document, so the listener model can change its shape without a
migration; the row also says which embedding space the model's embedding part was
learned in, because that part means nothing in another space.

Every call acts as the user (``Database.user_session``), never as the service role:
row-level security guards the row here exactly as on the shared database, and the sync
carries saves and resets (a deleted row is a tombstone) to the user's other devices.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from base.errors import UserFacingError

#: The largest model we store, as UTF-8 JSON. A listener model is a few kilobytes; one
#: this large is a bug (say, a history growing without bound), and it would be copied to
#: every device on every save.
MAX_STATE_BYTES = 256 * 1024


def _encode(state: dict[str, Any]) -> str:
    """The state as JSON text, or a UserFacingError naming what is wrong with it."""
    if not isinstance(state, dict):
        raise UserFacingError(
            "The radio's listener model must be a JSON object (a dict), "
            f"not {type(state).__name__}."
        )
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and PostgreSQL refuses them.
        encoded = json.dumps(state, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise UserFacingError(
            f"The radio's listener model cannot be stored: it is not plain JSON ({exc}). "
            "Convert arrays and numbers to lists, floats and ints, and NaN to null."
        ) from exc
    bad_key = _non_text_key(state, "state")
    if bad_key:
        # json.dumps would turn 1 into "1" silently: the model would load back different.
        raise UserFacingError(
            f"The radio's listener model cannot be stored: {bad_key} is not text "
            "(JSON object keys are strings)."
        )
    size = len(encoded.encode("utf-8"))
    if size > MAX_STATE_BYTES:
        raise UserFacingError(
            f"The radio's listener model is too large to store: {size / 1024:.0f} KB of JSON, "
            f"the limit is {MAX_STATE_BYTES // 1024} KB."
        )
    return encoded


def _non_text_key(value: Any, where: str) -> str | None:
    """The path of the first dict key that is not a string, or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"the key {key!r} in {where}"
            found = _non_text_key(item, f"{where}[{key!r}]")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _non_text_key(item, f"{where}[{i}]")
            if found:
                return found
    return None


def _check_space(embedding_space: str | None) -> None:
    if embedding_space is not None and (
        not isinstance(embedding_space, str) or not embedding_space.strip()
    ):
        raise UserFacingError(
            "The listener model's embedding space must be a name such as 'descriptor-v1', "
            f"or None; got {embedding_space!r}."
        )


def load_state(database: Any, user_id: uuid.UUID) -> tuple[dict[str, Any], str | None] | None:
    """``(state, embedding_space)`` as last saved, or None when nothing was learned yet."""
    with database.user_session(user_id) as s:
        row = s.execute(
            text("select state, embedding_space from public.listener_models where user_id = :u"),
            {"u": user_id},
        ).first()
    if row is None:
        return None
    state = row.state
    if not isinstance(state, dict):  # another writer (the web product) stored a non-object
        state = {}
    return state, row.embedding_space


def save_state(
    database: Any, user_id: uuid.UUID, state: dict[str, Any], embedding_space: str | None
) -> None:
    """Store the model, replacing the previous one (one upsert; ``updated_at`` moves on,
    which is what the sync's last-writer-wins compares).

    Raises UserFacingError, with nothing written, when ``state`` is not plain JSON, is
    larger than :data:`MAX_STATE_BYTES`, or the account does not exist in ``database``.
    """
    encoded = _encode(state)
    _check_space(embedding_space)
    try:
        with database.user_session(user_id) as s:
            s.execute(
                text(
                    "insert into public.listener_models as m (user_id, state, embedding_space) "
                    "values (:u, cast(:s as jsonb), :e) "
                    "on conflict (user_id) do update set state = excluded.state, "
                    "embedding_space = excluded.embedding_space, version = m.version + 1, "
                    "updated_at = now()"
                ),
                {"u": user_id, "s": encoded, "e": embedding_space},
            )
    except IntegrityError as exc:
        if "foreign key" not in str(exc.orig).lower():
            raise
        raise UserFacingError(
            f"Cannot save what the radio learned: there is no account {user_id} in this database."
        ) from exc
    except DataError as exc:  # e.g. a NUL character or a lone surrogate in a string
        first = str(exc.orig).strip().splitlines()[0]
        raise UserFacingError(
            f"The radio's listener model cannot be stored: PostgreSQL refused its JSON ({first})."
        ) from exc


def reset_state(database: Any, user_id: uuid.UUID) -> None:
    """Forget what the radio learned about this user (nothing to forget is fine)."""
    with database.user_session(user_id) as s:
        s.execute(
            text("delete from public.listener_models where user_id = :u"),
            {"u": user_id},
        )


__all__ = ["MAX_STATE_BYTES", "load_state", "reset_state", "save_state"]

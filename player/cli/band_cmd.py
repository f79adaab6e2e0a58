"""`infinite-player band …`: create, list, show, follow, discover bands; band radio.

Every command prints JSON lines (one band, or one track id, per line) so scripts can
pipe them. The acting user is ``--user EMAIL`` or the profile the app opens
(``user_email`` in the settings); ``band create`` makes that profile's users row when
this machine has none yet, every other command needs it to exist.
"""

from __future__ import annotations

import argparse
import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.database import Database


def register(sub: argparse._SubParsersAction) -> None:
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument(
        "--user", metavar="EMAIL", help="act as this user (default: the app's profile)"
    )

    parser = sub.add_parser("band", help="bands: create, list, show, follow, discover, radio")
    band_sub = parser.add_subparsers(dest="band_command", metavar="ACTION", required=True)

    create = band_sub.add_parser("create", parents=[who], help="create a band with a persona")
    create.add_argument(
        "--genre", action="append", required=True, metavar="G", help="genre (repeatable)"
    )
    create.add_argument("--name-seed", type=int, default=0, metavar="N", help="persona seed")
    create.add_argument("--vibe", metavar="V", help="mood, e.g. energetic, chill, dark")
    create.add_argument(
        "--track", action="append", default=[], metavar="ID", help="one of your track ids"
    )
    create.add_argument("--private", action="store_true", help="hide it from other users")
    create.set_defaults(func=_create)

    listing = band_sub.add_parser("list", parents=[who], help="your bands")
    listing.set_defaults(func=_list)

    show = band_sub.add_parser("show", parents=[who], help="one band, with its track ids")
    show.add_argument("band_id", metavar="ID")
    show.set_defaults(func=_show)

    for name, helptext in (("add", "add tracks to your band"), ("remove", "take tracks out")):
        edit = band_sub.add_parser(name, parents=[who], help=helptext)
        edit.add_argument("band_id", metavar="ID")
        edit.add_argument("--track", action="append", required=True, metavar="ID")
        edit.set_defaults(func=_edit)

    for name in ("follow", "unfollow"):
        f = band_sub.add_parser(name, parents=[who], help=f"{name} a band")
        f.add_argument("band_id", metavar="ID")
        f.set_defaults(func=_follow)

    discover = band_sub.add_parser("discover", parents=[who], help="public bands for your taste")
    discover.add_argument("--limit", type=int, default=10, metavar="N")
    discover.set_defaults(func=_discover)

    radio = band_sub.add_parser("radio", parents=[who], help="generate new tracks for a band")
    radio.add_argument("band_id", metavar="ID")
    radio.add_argument("--count", type=int, default=1, metavar="N")
    radio.add_argument("--seconds", type=float, metavar="S", help="length of each track")
    radio.set_defaults(func=_radio)


def _emit(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


def _resolve_user(database: Database, email: str | None, *, create: bool) -> uuid.UUID:
    from sqlalchemy import func, select

    from base.errors import UserFacingError
    from db.models import User
    from player.settings import Settings

    email = (email or Settings.load().get("user_email") or "").strip()
    if not email:
        raise UserFacingError(
            "No user: pass --user EMAIL or finish onboarding in the app (sets user_email)."
        )
    with database.service_session() as s:
        uid = s.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
        if uid is None:
            if not create:
                raise UserFacingError(f"No user with email {email!r} in {database.describe()}.")
            user = User(email=email)
            s.add(user)
            s.flush()
            uid = user.id
        return uid


def _run(args: argparse.Namespace, action: Any, *, create_user: bool = False) -> int:
    from db.database import Database
    from player.bands.service import BandService

    database = Database.open_default()
    try:
        uid = _resolve_user(database, args.user, create=create_user)
        _emit(action(BandService(database), uid))
    finally:
        database.close()
    return 0


def _create(args: argparse.Namespace) -> int:
    return _run(
        args,
        lambda svc, uid: [
            svc.create_band(
                uid,
                genres=args.genre,
                vibe=args.vibe,
                name_seed=args.name_seed,
                track_ids=args.track,
                is_public=not args.private,
            ).to_json()
        ],
        create_user=True,
    )


def _list(args: argparse.Namespace) -> int:
    return _run(args, lambda svc, uid: [b.to_json() for b in svc.list_bands(uid)])


def _show(args: argparse.Namespace) -> int:
    return _run(args, lambda svc, uid: [svc.get_band(uid, args.band_id).to_json()])


def _edit(args: argparse.Namespace) -> int:
    def action(svc: Any, uid: Any) -> list[dict[str, Any]]:
        if args.band_command == "add":
            return [svc.add_tracks(uid, args.band_id, args.track).to_json()]
        return [svc.remove_tracks(uid, args.band_id, args.track).to_json()]

    return _run(args, action)


def _follow(args: argparse.Namespace) -> int:
    def action(svc: Any, uid: Any) -> list[dict[str, Any]]:
        if args.band_command == "follow":
            svc.follow(uid, args.band_id)
        else:
            svc.unfollow(uid, args.band_id)
        return [svc.get_band(uid, args.band_id).to_json()]

    return _run(args, action)


def _discover(args: argparse.Namespace) -> int:
    return _run(args, lambda svc, uid: [b.to_json() for b in svc.discover(uid, args.limit)])


def _radio(args: argparse.Namespace) -> int:
    def action(svc: Any, uid: Any) -> list[dict[str, Any]]:
        made = svc.radio(uid, args.band_id, args.count, seconds=args.seconds)
        return [{"band_id": args.band_id, "track_id": str(t)} for t in made]

    return _run(args, action)

"""One sync between a device's database and the shared one: pull, resolve, push.

Why it converges, whatever happens to the process or the network:

* Every local change lands in ``sync_changes`` (the outbox) in the change's own
  transaction, so nothing is written that the sync does not know about.
* A push sends the row's *current* state (or a tombstone) and clears the outbox entry only
  if its ``seq`` is unchanged, after the shared database committed. Killed in between, the
  next sync pushes the same state again: an upsert of equal data, or a no-op insert — never
  a duplicate.
* A pull reads the shared feed between the saved cursor and the oldest running
  transaction, applies it in local transactions, and saves the new cursor last; killed
  half way, the next pull applies the same entries again, which changes nothing.
* Conflicts (a row changed on both sides) are resolved by last writer wins on the row's
  ``updated_at`` — or, for tables without one, the time of the change — the shared side
  winning ties. The losing version is kept in ``sync_conflicts``. A write the shared
  database refuses (its row is newer, or its rules keep the row) is undone locally by
  taking the shared version, so both sides end equal.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from base.errors import UserFacingError
from db.sync.audio import SharedAudio
from db.sync.catalogue import active_space, pull_catalogue
from db.sync.errors import RemoteRejected, SyncError
from db.sync.remote import Remote
from db.sync.state import SyncState, load_state, save_cursor
from db.sync.tables import SYNCED_TABLES, TableSpec

BATCH = 500
#: The most rows one call moves (``sync_pull`` caps its pages at this too).
MAX_BATCH = 5000
#: Seconds to wait for another sync of the same account to finish.
LOCK_WAIT = 10.0
#: Version of rows taken unconditionally (there is no local change to compare with).
_NOW = datetime.now(UTC)


@dataclass
class SyncResult:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    uploaded: int = 0
    discovered: int = 0
    #: shared catalogue entries (``embeddings``) of this device's space taken
    catalogue: int = 0
    #: pulled catalogue entries removed because the shared side deleted or moved them
    catalogue_deleted: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "pulled": self.pulled,
            "conflicts": self.conflicts,
            "uploaded": self.uploaded,
            "discovered": self.discovered,
            "catalogue": self.catalogue,
            "catalogue_deleted": self.catalogue_deleted,
            "errors": list(self.errors),
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Incoming:
    """One row state from the shared side, to be applied locally."""

    key: str
    op: str  # "upsert" | "delete"
    row: dict[str, Any] | None
    version_at: datetime
    #: Set when this answers our own refused push: remote wins if the outbox entry is
    #: still this one.
    expected_seq: int | None = None


#: Column lists per local database (a sync with nothing to do should not pay for a catalog
#: query). Built under the lock: two syncs starting at once (the app's timer and a CLI run
#: in one process) would otherwise both read the catalog and append to the same lists.
_COLUMNS: dict[str, dict[str, list[str]]] = {}
_COLUMNS_LOCK = threading.Lock()


def table_columns(engine: Engine) -> dict[str, list[str]]:
    """``{table: [column, ...]}`` of the synced tables, read once per database."""
    cache_key = engine.url.render_as_string(hide_password=True)
    with _COLUMNS_LOCK:
        found = _COLUMNS.get(cache_key)
        if found is None:
            found = {}
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "select table_name, column_name from information_schema.columns "
                        "where table_schema = 'public' and table_name = any(:t) "
                        "order by table_name, ordinal_position"
                    ),
                    {"t": [t.name for t in SYNCED_TABLES]},
                ).all()
            for t, c in rows:
                found.setdefault(t, []).append(c)
            _COLUMNS[cache_key] = found
    return found


def _when(value: Any) -> datetime:
    """A version as the functions return it (ISO text in JSON) or as psycopg reads it."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@dataclass(frozen=True)
class _Outgoing:
    """One outbox entry on its way out: the row's current state, or None for a tombstone."""

    row_key: str
    seq: int
    version_at: datetime
    row: dict[str, Any] | None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig else str(exc)).strip().splitlines()[0]


class Syncer:
    """Syncs one user's rows: ``local`` is the device's ``db.database.Database``, ``remote``
    calls the shared database's sync functions (``db/sync/remote.py``)."""

    def __init__(
        self,
        local: Any,
        remote: Remote,
        user_id: uuid.UUID,
        storage: SharedAudio | None = None,
        batch: int = BATCH,
        catalogue_space: str | None = None,
    ) -> None:
        self.local = local
        #: The embedding space whose shared catalogue entries to pull; None = the space of
        #: the listener's taste vector on this device after the sync.
        self.catalogue_space = catalogue_space
        self.remote = remote
        self.user_id = user_id
        self.remote_key = remote.key
        self.storage = storage
        # The functions return at most MAX_BATCH entries a page (a short page ends a table).
        self.batch = min(batch, MAX_BATCH)
        self.result = SyncResult()
        self._meta: Connection | None = None
        #: The shared users row as of the pull, re-read only if the push changed it.
        self._remote_user: dict[str, Any] | None = None
        self._pushed_user = False
        self._columns: dict[str, list[str]] = {}
        self.state: SyncState | None = None

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def _local_tx(self, mode: str | None = None) -> Iterator[Connection]:
        with self.local.engine.begin() as conn:
            if mode:
                conn.execute(text("select set_config('infinite.sync_mode', :m, true)"), {"m": mode})
            yield conn

    def columns(self, table: str) -> list[str]:
        """The table's columns on this device, in order."""
        if not self._columns:
            self._columns = table_columns(self.local.engine)
        return self._columns[table]

    # -- the whole sync ---------------------------------------------------------------------

    def run(self) -> SyncResult:
        started = time.perf_counter()
        with self.local.engine.connect() as lock_conn:
            # A sync killed a moment ago may still hold the lock until the server notices
            # its connection is gone: wait a little before calling it a concurrent sync.
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                got = lock_conn.execute(
                    text("select pg_try_advisory_lock(hashtext(:k))"),
                    {"k": f"infinite-sync:{self.user_id}"},
                ).scalar_one()
                lock_conn.commit()
                if got:
                    break
                if time.monotonic() > deadline:
                    raise SyncError("Another sync of this account is running; try again shortly.")
                time.sleep(0.1)
            self._meta = lock_conn  # cheap local reads share the lock's connection
            try:
                self._guard_remote_errors(self._ensure_local_user)
                self.state = load_state(lock_conn, self.user_id, self.remote_key)
                lock_conn.commit()
                self._guard_remote_errors(self._upload_audio)
                self._guard_remote_errors(self.pull)
                self._guard_remote_errors(self.push)
                self._guard_remote_errors(self.refresh_user)
                self._guard_remote_errors(self.pull_catalogue)
            finally:
                try:
                    lock_conn.rollback()
                    lock_conn.execute(
                        text("select pg_advisory_unlock(hashtext(:k))"),
                        {"k": f"infinite-sync:{self.user_id}"},
                    )
                    lock_conn.commit()
                except DBAPIError:
                    pass  # the connection is gone, and the lock with it
        self.result.seconds = time.perf_counter() - started
        return self.result

    def _guard_remote_errors(self, step: Any) -> None:
        try:
            step()
        except OperationalError as exc:
            raise SyncError(
                f"The connection broke during the sync ({_first_line(exc)}). What was already "
                "synced is kept; run the sync again when the shared database is reachable."
            ) from exc
        except RemoteRejected as exc:
            raise SyncError(f"The shared database refused the sync: {exc}") from exc

    # -- audio ------------------------------------------------------------------------------

    def _upload_audio(self) -> None:
        """Pending tracks whose audio is only on this device get a shared URL first."""
        if self.storage is None:
            return
        with self.local.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "select t.id, t.url from public.generated_tracks t "
                    "join public.sync_changes c on c.table_name = 'generated_tracks' "
                    " and c.row_key = t.id::text and c.pending "
                    "where t.user_id = :u and t.status = 'completed'"
                ),
                {"u": self.user_id},
            ).all()
        for track_id, url in rows:
            if self.storage.owns(url):
                continue
            path = self.storage.local_file(url)
            if path is None or not path.is_file():
                continue
            try:
                shared = self.storage.put(f"{self.user_id}/{track_id}{path.suffix}", path)
            except UserFacingError as exc:
                self.result.errors.append(f"generated_tracks {track_id}: {exc}")
                continue
            with self._local_tx() as conn:
                conn.execute(
                    text("update public.generated_tracks set url = :s where id = :i and url = :u"),
                    {"s": shared, "i": track_id, "u": url},
                )
            self.result.uploaded += 1

    # -- the shared catalogue ---------------------------------------------------------------

    def pull_catalogue(self) -> None:
        """The shared catalogue's entries of this device's space (``db/sync/catalogue.py``)."""
        assert self._meta is not None
        space = self.catalogue_space
        if space is None:
            space = active_space(self._meta, self.user_id)
            self._meta.commit()
        if space is None:
            return  # no taste yet, so no space to match against
        got = pull_catalogue(self.local, self.remote, self.user_id, space)
        self.result.catalogue += got.pulled
        self.result.catalogue_deleted += got.deleted

    # -- pull -------------------------------------------------------------------------------

    def pull(self) -> None:
        assert self.state is not None
        lo = self.state.pull_cursor
        device = str(self.state.device_id)
        begun = self.remote.call("sync_begin", p_lo=lo, p_device=device)
        hi = str(begun["hi"])
        self._remote_user = begun["user"]
        changed = set(begun["tables"])
        for spec in SYNCED_TABLES:
            if spec.name in changed:
                self._pull_table(spec, lo, hi, device)
        if hi == lo:
            return
        with self._local_tx() as conn:
            save_cursor(conn, self.user_id, self.remote_key, hi)
        self.state = dataclasses.replace(self.state, pull_cursor=hi)

    def _pull_table(self, spec: TableSpec, lo: str, hi: str, device: str) -> None:
        after_tx, after_key = "0", ""
        while True:
            # The rows come in the same transaction as their entries (a consistent pair);
            # an upsert whose row is not visible (gone since, or private now) is a delete.
            got = self.remote.call(
                "sync_pull",
                p_table=spec.name,
                p_lo=lo,
                p_hi=hi,
                p_device=device,
                p_after_tx=after_tx,
                p_after_key=after_key,
                p_limit=self.batch,
            )
            page, rows = got["entries"], got["rows"]
            if not page:
                return
            after_tx, after_key = page[-1]["txid"], page[-1]["row_key"]
            mine = []
            others = []
            for r in page:
                row = rows.get(r["row_key"])
                item = Incoming(
                    r["row_key"], "upsert" if row else "delete", row, _when(r["version_at"])
                )
                owner = uuid.UUID(r["user_id"])
                if owner == self.user_id:
                    mine.append(item)
                elif spec.discoverable:
                    others.append((item, owner))
            if mine:
                self.result.pulled += self.apply_incoming(spec, mine)
            if others:
                self._discover(spec, others)
            if len(page) < self.batch:
                return

    @staticmethod
    def _rows_by_key(conn: Any, spec: TableSpec, keys: list[str]) -> dict[str, dict[str, Any]]:
        """``{key: row as JSON}`` for the rows of ``keys`` this connection can see.

        Looked up by primary key rather than joined to ``sync_changes``: on fresh tables
        the planner has no statistics and a join may scan the table once per entry.
        """
        if not keys:
            return {}
        return {
            r.k: r.row
            for r in conn.execute(
                text(
                    f"select {spec.key_sql('t')} as k, to_jsonb(t.*) as row "
                    f"from public.{spec.name} t where {spec.match_sql('t', 'keys')}"
                ),
                {"keys": keys},
            )
        }

    def _discover(self, spec: TableSpec, items: list[tuple[Incoming, uuid.UUID]]) -> None:
        with self._local_tx() as conn:
            gone = [i.key for i, _ in items if i.op == "delete"]
            if gone:
                conn.execute(
                    text(
                        "delete from public.sync_discovery where table_name = :t "
                        "and row_key = any(:k)"
                    ),
                    {"t": spec.name, "k": gone},
                )
            rows = [
                {"k": i.key, "o": owner, "d": json.dumps(i.row), "v": i.version_at}
                for i, owner in items
                if i.op == "upsert"
            ]
            if rows:
                conn.execute(
                    text(
                        "insert into public.sync_discovery "
                        "(table_name, row_key, owner_id, row_data, version_at) "
                        "values (:t, :k, :o, cast(:d as jsonb), :v) "
                        "on conflict (table_name, row_key) do update set "
                        "row_data = excluded.row_data, version_at = excluded.version_at, "
                        "owner_id = excluded.owner_id, pulled_at = now()"
                    ),
                    [{"t": spec.name, **r} for r in rows],
                )
            self.result.discovered += len(rows)

    # -- applying the shared side's rows locally ---------------------------------------------

    def apply_incoming(self, spec: TableSpec, items: list[Incoming]) -> int:
        """Apply row states from the shared side, resolving conflicts; returns rows applied."""
        try:
            with self._local_tx("pull") as conn:
                return self._apply(conn, spec, items)
        except DBAPIError:
            pass
        # One bad row (e.g. a foreign key to a row this device does not have) must not
        # block the others: apply one by one and report the failures.
        applied = 0
        for item in items:
            try:
                with self._local_tx("pull") as conn:
                    applied += self._apply(conn, spec, [item])
            except DBAPIError as exc:
                self.result.errors.append(
                    f"{spec.name} {item.key}: not applied locally ({_first_line(exc)})"
                )
        return applied

    def _apply(self, conn: Connection, spec: TableSpec, items: list[Incoming]) -> int:
        keys = [i.key for i in items]
        # Lock our rows first (the same order as the app: row, then outbox), so a local
        # edit racing with this apply is either seen as pending or lands after it.
        conn.execute(
            text(f"select 1 from public.{spec.name} t where {spec.match_sql('t', 'k')} for update"),
            {"k": keys},
        )
        local = {
            r.row_key: r
            for r in conn.execute(
                text(
                    "select c.row_key, c.pending, c.seq, c.version_at from public.sync_changes c "
                    "where c.table_name = :t and c.row_key = any(:k)"
                ),
                {"t": spec.name, "k": keys},
            )
        }
        take: list[Incoming] = []
        conflicts: list[tuple[Incoming, str, str]] = []
        for item in items:
            mine = local.get(item.key)
            if mine is None or not mine.pending:
                take.append(item)
            elif item.expected_seq is not None:
                if mine.seq == item.expected_seq:
                    take.append(item)
                    conflicts.append((item, "remote", "the shared database kept its version"))
            elif item.version_at >= mine.version_at:
                take.append(item)
                conflicts.append((item, "remote", "changed on both sides; shared one is newer"))
            else:
                conflicts.append((item, "local", "changed on both sides; this device's is newer"))
        if conflicts:
            self._log_conflicts(conn, spec, conflicts)
        deletes = [i.key for i in take if i.op == "delete"]
        upserts = [i for i in take if i.op == "upsert" and i.row is not None]
        if deletes:
            conn.execute(
                text(f"delete from public.{spec.name} t where {spec.match_sql('t', 'k')}"),
                {"k": deletes},
            )
        if upserts:
            rows = [self._local_version_of(conn, spec, i.row) for i in upserts if i.row]
            cols = self.columns(spec.name)
            col_list = ", ".join(cols)
            if spec.natural_key:
                # The same thing under another id here (liked, or imported, on two devices):
                # the shared side's id wins.
                match = " and ".join(f"t.{c} = r.{c}" for c in spec.natural_key)
                conn.execute(
                    text(
                        f"delete from public.{spec.name} t using jsonb_populate_recordset("
                        f"null::public.{spec.name}, cast(:rows as jsonb)) as r "
                        f"where {match} and t.id <> r.id"
                    ),
                    {"rows": json.dumps(rows)},
                )
            updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in spec.pk)
            conn.execute(
                text(
                    f"insert into public.{spec.name} ({col_list}) select {col_list} from "
                    f"jsonb_populate_recordset(null::public.{spec.name}, cast(:rows as jsonb)) "
                    f"on conflict ({', '.join(spec.pk)}) do update set {updates}"
                ),
                {"rows": json.dumps(rows)},
            )
        # Entries the apply did not touch (a delete of a row already gone) stop being pending.
        conn.execute(
            text(
                "update public.sync_changes set pending = false "
                "where table_name = :t and row_key = any(:k) and pending"
            ),
            {"t": spec.name, "k": [i.key for i in take]},
        )
        return len(take)

    def _local_version_of(
        self, conn: Connection, spec: TableSpec, row: dict[str, Any]
    ) -> dict[str, Any]:
        """The users row keeps its own taste vector when the two embedding spaces differ
        (a vector means nothing outside its space); one with no space yet takes theirs."""
        if spec.name != "users":
            return row
        mine = conn.execute(
            text(
                "select taste_vector::text as tv, embedding_space from public.users where id = :i"
            ),
            {"i": row["id"]},
        ).first()
        if mine is None or mine.embedding_space in (None, row.get("embedding_space")):
            return row
        return {**row, "taste_vector": mine.tv, "embedding_space": mine.embedding_space}

    def _log_conflicts(
        self, conn: Connection, spec: TableSpec, conflicts: list[tuple[Incoming, str, str]]
    ) -> None:
        key_expr = spec.key_sql("t")
        keys = [i.key for i, _, _ in conflicts]
        local_rows = {
            r.k: r.row
            for r in conn.execute(
                text(
                    f"select {key_expr} as k, to_jsonb(t.*) as row from public.{spec.name} t "
                    f"where {spec.match_sql('t', 'k')}"
                ),
                {"k": keys},
            )
        }
        conn.execute(
            text(
                "insert into public.sync_conflicts "
                "(user_id, table_name, row_key, kept, reason, local_row, remote_row) "
                "values (:u, :t, :k, :kept, :why, cast(:l as jsonb), cast(:r as jsonb))"
            ),
            [
                {
                    "u": self.user_id,
                    "t": spec.name,
                    "k": item.key,
                    "kept": kept,
                    "why": why,
                    "l": json.dumps(local_rows.get(item.key)),
                    "r": json.dumps(item.row),
                }
                for item, kept, why in conflicts
            ],
        )
        self.result.conflicts += len(conflicts)

    # -- push -------------------------------------------------------------------------------

    def push(self) -> None:
        assert self._meta is not None
        waiting = {
            (r.table_name, r.op)
            for r in self._meta.execute(
                text(
                    "select distinct table_name, op from public.sync_changes "
                    "where pending and user_id = :u"
                ),
                {"u": self.user_id},
            )
        }
        self._meta.commit()
        self._pushed_user = ("users", "upsert") in waiting
        for spec in reversed(SYNCED_TABLES):
            if (spec.name, "delete") in waiting:
                self._push_table(spec, "delete")
        for spec in SYNCED_TABLES:
            if (spec.name, "upsert") in waiting:
                self._push_table(spec, "upsert")

    def _push_table(self, spec: TableSpec, op: str) -> None:
        sql = text(
            "select c.row_key, c.seq, c.version_at from public.sync_changes c "
            "where c.pending and c.table_name = :tn and c.user_id = :u and c.op = :op "
            "and c.seq > :after order by c.seq limit :n"
        )
        after = 0
        while True:
            with self.local.engine.begin() as conn:
                page = conn.execute(
                    sql,
                    {"tn": spec.name, "u": self.user_id, "op": op, "after": after, "n": self.batch},
                ).all()
                rows = (
                    self._rows_by_key(conn, spec, [r.row_key for r in page])
                    if op == "upsert"
                    else {}
                )
            if not page:
                return
            after = page[-1].seq
            entries = [
                _Outgoing(r.row_key, r.seq, r.version_at, rows.get(r.row_key))
                for r in page
                if op == "delete" or r.row_key in rows
            ]
            if entries:
                self._push_entries(spec, op, entries)
            if len(page) < self.batch:
                return

    def _push_entries(self, spec: TableSpec, op: str, entries: list[_Outgoing]) -> None:
        failed: set[str] = set()
        try:
            confirmed = self._write_remote(spec, op, entries)
        except RemoteRejected:
            confirmed, failed = self._push_one_by_one(spec, op, entries)
        ok = [e for e in entries if e.row_key in confirmed]
        refused = [e for e in entries if e.row_key not in confirmed and e.row_key not in failed]
        if ok:
            with self._local_tx() as conn:
                conn.execute(
                    text(
                        "update public.sync_changes c set pending = false "
                        "from unnest(cast(:k as text[]), cast(:s as bigint[])) as p(k, s) "
                        "where c.table_name = :t and c.row_key = p.k and c.seq = p.s"
                    ),
                    {"t": spec.name, "k": [e.row_key for e in ok], "s": [e.seq for e in ok]},
                )
            self.result.pushed += len(ok)
        if refused:
            self._take_remote_version(spec, refused)

    def _push_one_by_one(
        self, spec: TableSpec, op: str, entries: list[_Outgoing]
    ) -> tuple[set[str], set[str]]:
        confirmed: set[str] = set()
        failed: set[str] = set()
        for entry in entries:
            try:
                confirmed |= self._write_remote(spec, op, [entry])
            except RemoteRejected as exc:
                failed.add(entry.row_key)
                self.result.errors.append(
                    f"{spec.name} {entry.row_key}: not pushed ({exc}); it stays pending"
                )
        return confirmed, failed

    def _write_remote(self, spec: TableSpec, op: str, entries: list[_Outgoing]) -> set[str]:
        """Write one batch on the shared database (one transaction, ``sync_push``); returns
        the keys it took. Server-owned columns are not even sent."""
        assert self.state is not None
        payload = []
        for e in entries:
            item: dict[str, Any] = {"row_key": e.row_key, "version_at": e.version_at.isoformat()}
            if op == "upsert" and e.row is not None:
                item["row"] = {k: v for k, v in e.row.items() if k not in spec.server_columns}
            payload.append(item)
        done = self.remote.call(
            "sync_push",
            p_table=spec.name,
            p_op=op,
            p_entries=payload,
            p_device=str(self.state.device_id),
        )
        return set(done or ())

    def _take_remote_version(self, spec: TableSpec, entries: list[_Outgoing]) -> None:
        """The shared side refused (newer there, or its rules keep the row): take its row."""
        probes = (
            [{"row_key": e.row_key, "row": e.row} for e in entries if e.row]
            if spec.natural_key
            else []
        )
        got = self.remote.call(
            "sync_rows",
            p_table=spec.name,
            p_keys=[e.row_key for e in entries],
            p_probes=probes,
        )
        found, twins = got["found"], got["twins"]
        items = []
        for e in entries:
            hit = found.get(e.row_key)
            if hit is not None:
                version = _when(hit["version_at"]) if hit["version_at"] else e.version_at
                items.append(Incoming(e.row_key, "upsert", hit["row"], version, e.seq))
            elif e.row_key in twins:
                twin = twins[e.row_key]
                # Same pair under another id on the shared side: theirs replaces ours.
                version = _when(twin["version_at"])
                items.append(Incoming(twin["key"], "upsert", twin["row"], version))
                items.append(Incoming(e.row_key, "delete", None, version, e.seq))
            else:
                items.append(Incoming(e.row_key, "delete", None, e.version_at, e.seq))
        self.apply_incoming(spec, items)

    # -- the users row ----------------------------------------------------------------------

    def _shared_user_row(self) -> dict[str, Any] | None:
        got = self.remote.call(
            "sync_rows", p_table="users", p_keys=[str(self.user_id)], p_probes=[]
        )
        hit = got["found"].get(str(self.user_id))
        return hit["row"] if hit else None

    def _ensure_local_user(self) -> None:
        """A device signing in to an existing account starts from the shared users row."""
        assert self._meta is not None
        found = self._meta.execute(
            text("select 1 from public.users where id = :u"), {"u": self.user_id}
        ).first()
        self._meta.commit()
        if found:
            return
        row = self._shared_user_row()
        if row is None:
            raise SyncError(
                f"The account {self.user_id} exists neither on this device nor on the shared "
                "database."
            )
        with self._local_tx("pull") as conn:
            self._apply(conn, SYNCED_TABLES[0], [Incoming(str(self.user_id), "upsert", row, _NOW)])

    def refresh_user(self) -> None:
        """Take the shared users row (premium and daily_count are the server's to decide)."""
        assert self._meta is not None
        row = self._remote_user
        if self._pushed_user or row is None:
            row = self._shared_user_row()
        if row is None:
            return
        mine = self._meta.execute(
            text(
                "select to_jsonb(t.*) as row, c.pending from public.users t "
                "left join public.sync_changes c on c.table_name = 'users' "
                "and c.row_key = t.id::text where t.id = :i"
            ),
            {"i": self.user_id},
        ).first()
        self._meta.commit()
        if mine is None or mine.pending or mine.row == row:
            return
        with self._local_tx("pull") as conn:
            self._apply(conn, SYNCED_TABLES[0], [Incoming(str(self.user_id), "upsert", row, _NOW)])

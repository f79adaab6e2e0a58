"""The column cache is filled once, even when two syncs start at the same moment."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import event

from db.sync import syncer


def test_two_syncs_starting_at_once_read_the_catalog_once(database: Any) -> None:
    """Both threads are held inside the catalog query until the other arrives (or 1 s has
    passed): without the lock both are inside it at once (two reads, two caches racing);
    with it the second waits for the first and finds the lists built."""
    syncer._COLUMNS.clear()
    arrived = threading.Barrier(2)
    reads: list[int] = []

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "information_schema.columns" in statement:
            reads.append(1)
            with contextlib.suppress(threading.BrokenBarrierError):
                arrived.wait(timeout=1.0)

    event.listen(database.engine, "before_cursor_execute", hold)
    results: list[dict[str, list[str]]] = []
    try:
        threads = [
            threading.Thread(target=lambda: results.append(syncer.table_columns(database.engine)))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        event.remove(database.engine, "before_cursor_execute", hold)
        syncer._COLUMNS.clear()
    assert len(reads) == 1
    assert results[0] is results[1]
    playlist_columns = results[0]["user_playlists"]
    assert len(playlist_columns) == len(set(playlist_columns))

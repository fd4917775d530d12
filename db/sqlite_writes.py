"""Writing to SQLite from a busy server: one writer at a time, and no checkpoint in a request.

SQLite has a single write lock per database file. A writer that finds it taken sleeps in
SQLite's busy handler and retries (1, 2, 5 … up to 100 ms a try), and in WAL mode a writer whose
read snapshot went stale fails at once ("database is locked") instead of waiting. `WriteGate`
queues writers in the kernel instead: a thread lock within the process, an exclusive `flock` on
``<database>.write-lock`` across processes (uvicorn workers), taken before the transaction reads
anything, so the holder's snapshot cannot go stale and the next writer wakes the moment the lock is
free.

The commit that pushes the WAL past 1,000 pages copies it back into the database and syncs the
file (SQLite's automatic checkpoint), which on a slow disk takes tens of milliseconds: with every
writer queued behind it, that is every writer's latency. `WalCheckpointer` turns the automatic
checkpoint off for one engine's connections and checkpoints from a background thread instead
(``PASSIVE``: it never waits for, nor blocks, readers and writers). Commits then append to the WAL
without syncing (``synchronous=NORMAL``), as before; only the checkpoint syncs, off the request
path. Other processes (flows, the CLI) keep SQLite's automatic checkpoint, but for bulk writers
(`checkpoints_in_background`: the login migration), whose commits would wait on the copying of
every batch they wrote; from a thread it runs in SQLite's C code beside their Python.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class WriteGate:
    """Exclusive, in arrival order as far as the kernel goes, across threads and processes."""

    def __init__(self, database: Path | None) -> None:
        self._threads = threading.Lock()
        self._fd: int | None = None
        if database is not None:
            lock_file = database.with_name(database.name + ".write-lock")
            self._fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            # An app made and dropped (tests make hundreds) must not keep its descriptor open.
            self._closer = weakref.finalize(self, os.close, self._fd)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks without the GIL
            except BaseException:
                self._threads.release()
                raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            self._closer()
            self._fd = None


def _no_automatic_checkpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class WalCheckpointer:
    """Checkpoints one SQLite engine's WAL every `interval` seconds from a daemon thread."""

    def __init__(self, engine: Engine, *, interval: float = 0.5) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("WAL checkpoints are for SQLite engines")
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        event.listen(self.engine, "connect", _no_automatic_checkpoint)
        # Connections opened before (the schema check) still checkpoint automatically: drop them.
        self.engine.dispose()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        event.remove(self.engine, "connect", _no_automatic_checkpoint)
        self.engine.dispose()  # no connection without automatic checkpoints outlives the thread
        self.checkpoint()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint: (busy, WAL frames, frames copied back), or None on error."""
        try:
            with self.engine.connect() as connection:
                row = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        except Exception:  # a failed checkpoint is retried next time; the WAL only grows meanwhile
            log.exception("SQLite checkpoint failed")
            return None
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()


@contextmanager
def checkpoints_in_background(engine: Engine, *, interval: float = 0.1) -> Iterator[None]:
    """A `WalCheckpointer` for the block on SQLite; nothing on other databases (PostgreSQL
    checkpoints in its own processes). Connections opened before the block are dropped."""
    if engine.dialect.name != "sqlite":
        yield
        return
    checkpointer = WalCheckpointer(engine, interval=interval)
    checkpointer.start()
    try:
        yield
    finally:
        checkpointer.stop()

"""The portal's SQLite write gate (across processes) and its background WAL checkpoints."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from db.engine import make_engine
from db.sqlite_writes import WalCheckpointer, WriteGate, checkpoints_in_background

ROOT = Path(__file__).resolve().parent.parent


def test_the_gate_holds_writers_of_another_process_until_it_is_released(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from db.sqlite_writes import WriteGate
                gate = WriteGate(Path({str(database)!r}))
                with gate:
                    print("held", flush=True)
                    sys.stdin.readline()
                """
            ),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        gate = WriteGate(database)
        entered = threading.Event()

        def write() -> None:
            with gate:
                entered.set()

        writer = threading.Thread(target=write)
        writer.start()
        assert not entered.wait(0.5)  # the other process holds it
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert entered.wait(10)
        writer.join()
        gate.close()
    finally:
        holder.kill()
        holder.wait()


def test_the_gate_is_one_thread_at_a_time_and_is_released_on_error(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "portal.db")
    inside = 0
    most = 0
    lock = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        for _ in range(50):
            with gate:
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0005)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1

    with pytest.raises(RuntimeError), gate:
        raise RuntimeError("the transaction failed")
    with gate:  # released despite the error
        pass
    gate.close()


def test_checkpoints_move_out_of_commits_and_into_the_background(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    checkpointer = WalCheckpointer(engine, interval=3600)  # this test calls checkpoint() itself
    checkpointer.start()
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        for _ in range(600):  # well past SQLite's 1,000-page automatic checkpoint
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 4000})
        result = checkpointer.checkpoint()
        assert result is not None
        busy, frames, copied = result
        assert busy == 0
        assert frames > 1000 and copied == frames  # nothing was checkpointed before
    finally:
        checkpointer.stop()
    with engine.connect() as connection:  # other users of the engine get SQLite's default back
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 600
    engine.dispose()


def test_checkpoints_are_for_sqlite_only() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(ValueError, match="SQLite"):
        WalCheckpointer(engine)
    engine.dispose()


def test_a_bulk_writer_leaves_its_checkpoints_to_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'flow.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    copied_in_background: list[int] = []
    real = WalCheckpointer.checkpoint

    def spied(self: WalCheckpointer) -> tuple[int, int, int] | None:
        result = real(self)
        if result is not None and threading.current_thread().name == "sqlite-checkpoint":
            copied_in_background.append(result[2])
        return result

    monkeypatch.setattr(WalCheckpointer, "checkpoint", spied)
    with checkpoints_in_background(engine, interval=0.05):
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        for _ in range(6):  # batches of 100 pages and more, committed one after the other
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 4000}] * 100)
        deadline = time.monotonic() + 10
        while sum(copied_in_background) < 600 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sum(copied_in_background) >= 600  # page after page, copied by the thread
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 600
    engine.dispose()
    postgres = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with checkpoints_in_background(postgres):  # nothing to do there, and nothing connects
        pass
    postgres.dispose()


def test_a_dropped_gate_closes_its_lock_file(tmp_path: Path) -> None:
    def descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    gc.collect()
    before = descriptors()
    for _ in range(50):  # the portal's tests make an app, and so a gate, per test
        with WriteGate(tmp_path / "portal.db"):
            pass
    gc.collect()
    assert descriptors() <= before

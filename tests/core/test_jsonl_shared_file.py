"""One jsonl file shared by several real processes (every process drains a PostgreSQL store's outbox).

Each append holds an exclusive flock from cutting a torn tail to the fsync. Without it, one process takes
another's line being written for a torn tail and cuts it: the waiting test below then fails every time, the
many-appenders test nearly every time (it is a race), both naming the lost or broken lines.
"""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from shopify_bridge.deliver.destinations.jsonl import locked_for_append
from tests.core.jsonl_appenders import WAIT, append_batches, event_line, write_a_line_in_two_halves

SPAWN = multiprocessing.get_context("spawn")  # no fork of a process that may run threads


def read_ids(path: Path) -> list[str]:
    """The event ids of the file's lines; fails on any line that is not one whole event."""
    ids = []
    for line in path.read_bytes().split(b"\n")[:-1]:
        event = json.loads(line)
        assert event["pad"].startswith(event["event_id"] + "."), "a line spliced from two events"
        ids.append(event["event_id"])
    assert path.read_bytes().endswith(b"\n")
    return ids


def test_concurrent_appenders_write_whole_lines_each_event_once(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    workers, batches, per_batch = 4, 48, 2
    start = SPAWN.Barrier(workers)
    processes = [
        SPAWN.Process(target=append_batches, args=(str(out), w, batches, per_batch, start)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(WAIT)
    assert [p.exitcode for p in processes] == [0] * workers
    ids = read_ids(out)
    expected = {f"{w}-{b}-{i}" for w in range(workers) for b in range(batches) for i in range(per_batch)}
    assert len(ids) == len(expected) and set(ids) == expected
    for w in range(workers):  # one process's batches keep their order in the shared file
        own = [i for i in ids if i.startswith(f"{w}-")]
        assert own == sorted(own, key=lambda i: tuple(int(n) for n in i.split("-")))


def blocked_on_lock(path: Path, pid: int) -> bool:
    """Whether `pid` waits for a flock on `path` (Linux lists a blocked waiter in /proc/locks with "->")."""
    inode = str(path.stat().st_ino)
    for entry in Path("/proc/locks").read_text().splitlines():
        fields = entry.split()
        if fields[1] == "->" and fields[2] == "FLOCK" and fields[5] == str(pid) and fields[6].split(":")[2] == inode:
            return True
    return False


@pytest.mark.parametrize("writer_ends", ["finishes its line", "is killed mid-line"])
def test_an_appender_waits_for_a_line_being_written(tmp_path: Path, writer_ends: str) -> None:
    """A writer holds the file with half a line written; an appender must wait for it, not cut that half.

    When the writer is killed instead, the kernel drops its lock and the appender cuts the torn half.
    """
    out = tmp_path / "events.jsonl"
    out.write_bytes(event_line("0") + b"\n")
    written, finish = SPAWN.Event(), SPAWN.Semaphore(0)  # a semaphore: an Event's set() waits for a killed waiter
    writer = SPAWN.Process(target=write_a_line_in_two_halves, args=(str(out), "W", written, finish))
    writer.start()
    assert writer.pid is not None and written.wait(WAIT)
    start = SPAWN.Barrier(2)
    appender = SPAWN.Process(target=append_batches, args=(str(out), 1, 1, 2, start))
    try:
        appender.start()
        start.wait(WAIT)
        assert appender.pid is not None
        deadline = time.monotonic() + WAIT
        while not blocked_on_lock(out, appender.pid):  # polled, not timed: either state ends the wait
            assert appender.is_alive(), "the appender wrote while another process was mid-line"
            assert time.monotonic() < deadline
            appender.join(0.005)
        if writer_ends == "is killed mid-line":
            os.kill(writer.pid, signal.SIGKILL)
    finally:
        finish.release()
        writer.join(WAIT)
        appender.join(WAIT)
    assert writer.exitcode == (0 if writer_ends == "finishes its line" else -signal.SIGKILL)
    assert appender.exitcode == 0
    whole_before = ["0", "W"] if writer_ends == "finishes its line" else ["0"]
    assert read_ids(out) == [*whole_before, "1-0-0", "1-0-1"]


def test_the_lock_is_released_when_the_append_ends(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    with locked_for_append(out) as handle:
        handle.write(b"{}\n")
    with open(out, "rb") as probe:
        fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise BlockingIOError if still held
    assert out.stat().st_mode & 0o777 == 0o600

"""Running a command where a directory is read-only for it: a read-only bind mount when we are root (root
ignores file modes, but not a read-only file system), else the directory's and files' write bits removed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOUNT_READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'


def _can_mount_read_only(directory: Path) -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run([unshare, "-m", "sh", "-c", MOUNT_READ_ONLY, str(directory), "true"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@contextmanager
def read_only(directory: Path) -> Iterator[list[str]]:
    """The argv prefix that runs a program with `directory` read-only (skips the test when neither way works)."""
    if os.geteuid() == 0:
        if not _can_mount_read_only(directory):
            pytest.skip("root without mount namespaces: cannot make a directory read-only here")
        yield ["unshare", "-m", "sh", "-c", MOUNT_READ_ONLY, str(directory)]
        return
    modes = {path: path.stat().st_mode for path in [directory, *directory.iterdir()]}
    for path in modes:
        path.chmod(0o500 if path.is_dir() else 0o400)
    try:
        yield []
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def run_program(prefix: list[str], *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m shopify_bridge ARGS` behind `prefix`; its output as text."""
    return subprocess.run([*prefix, sys.executable, "-m", "shopify_bridge", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=60, env={**os.environ, **(env or {})})


def run_python(prefix: list[str], code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -c CODE ARGS` behind `prefix`."""
    return subprocess.run([*prefix, sys.executable, "-c", code, *args], cwd=REPO, text=True, capture_output=True,
                          timeout=60)

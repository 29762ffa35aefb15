"""The local keyring file: created 0600 in a 0700 directory, written atomically under a lock.

Every change runs ``read -> mutate -> write temp -> fsync -> rename -> fsync dir`` while an
exclusive ``flock`` on a side file is held, so two processes starting at once create one
keyring, and a reader never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from common.crypto.errors import KeyringError

T = TypeVar("T")
FILE_MODE = 0o600
DIR_MODE = 0o700


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<path>.lock`` (created 0600)."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` with mode 0700 if it does not exist."""
    if not directory.exists():
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(directory, DIR_MODE)
    if not directory.is_dir():
        raise KeyringError(f"keyring directory {directory} is not a directory")


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """(inode, mtime_ns, size), to notice that another process replaced the file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def read_json(path: Path) -> dict[str, Any]:
    """Read the keyring, refusing a file that others than its owner can access."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise KeyringError(f"cannot open keyring {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise KeyringError(
                f"keyring {path} has mode {mode:04o}; it must be 0600 (run: chmod 600 {path})"
            )
        raw = handle.read()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise KeyringError(f"keyring {path} is not valid JSON") from exc
    if not isinstance(data, dict):
        raise KeyringError(f"keyring {path} must hold a JSON object")
    return data


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to a 0600 temp file in the same directory, fsync, rename, fsync dir."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    payload = json.dumps(data, indent=2, sort_keys=True).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_or_create(path: Path, create: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Return the keyring at ``path``, creating it with ``create()`` if absent (once, locked)."""
    ensure_private_dir(path.parent)
    try:
        return read_json(path)
    except FileNotFoundError:
        pass
    with exclusive_lock(path):
        try:
            return read_json(path)  # another process created it while we waited
        except FileNotFoundError:
            data = create()
            write_json_atomic(path, data)
            return data


def update(path: Path, mutate: Callable[[dict[str, Any]], T]) -> tuple[dict[str, Any], T]:
    """Apply ``mutate`` to the current keyring under the lock and persist the result.

    ``mutate`` changes the dict in place and returns a value handed back to the caller; if it
    raises, nothing is written.
    """
    with exclusive_lock(path):
        data = read_json(path)
        before = json.dumps(data, sort_keys=True)
        result = mutate(data)
        if json.dumps(data, sort_keys=True) != before:
            write_json_atomic(path, data)
        return data, result

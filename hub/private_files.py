"""Files that hold a secret or personal data: mode 0600 from the moment they exist, folders 0700.

Every such file is created through :func:`open_private` (``os.open`` with mode 0600, so there is
no moment between creating and ``chmod`` when another local user could open it) in a folder made
or tightened by :func:`private_dir`. The umask can only narrow these modes, never widen them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)
_warned: set[str] = set()
FILE_MODE = 0o600
DIR_MODE = 0o700


def tighten(path: Path, mode: int) -> None:
    """Best effort: take group and other permissions off an existing file or folder (a read-only mount
    of secrets, or one owned by another user, is left as it is, with a warning)."""
    try:
        current = os.stat(path).st_mode & 0o777
        if current & ~mode:
            os.chmod(path, current & mode)
    except OSError as exc:
        if str(path) not in _warned:  # once per path: a read-only mount stays read-only
            _warned.add(str(path))
            log.warning("could not restrict %s to mode %o: %s", path, mode, type(exc).__name__)


def private_dir(path: Path, *, tighten_existing: bool = True) -> Path:
    """``path`` as a folder with mode 0700: created (missing parents too, each 0700) or, if it exists,
    tightened (unless ``tighten_existing`` is false: a folder the operator named, e.g. an export target)."""
    path = Path(path)
    missing = []
    at = path
    while not at.exists():
        missing.append(at)
        at = at.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            pass
    if tighten_existing or missing:
        tighten(path, DIR_MODE)
    return path


def open_private(path: Path, mode: str = "w", *, exclusive: bool = False, **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing (``"w"``, ``"wb"``, ``"a"``, ``"ab"``), created with mode 0600.

    An existing file is tightened to 0600 before anything is written to it. ``exclusive``: refuse
    if it exists (``FileExistsError``).
    """
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if mode.startswith("a") else os.O_TRUNC
    if exclusive:
        flags |= os.O_EXCL
    fd = os.open(path, flags, FILE_MODE)
    try:
        if (os.fstat(fd).st_mode & 0o777) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes | str, *, fsync: bool = False) -> None:
    """Replace ``path`` atomically with ``data`` (through a 0600 temporary file in the same folder)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open_private(tmp, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)

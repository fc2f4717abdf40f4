"""Where DuckDB spills to disk (and where UTF-8 copies of event logs go), and cleaning up.

Every connection gets its own folder under one folder per process
(``churn_duckdb_<pid>_*`` in the system temp folder), and so does every UTF-8
copy of an event log that DuckDB cannot read as it is. The process folder is
removed when the process exits; folders left by processes that were killed
are removed the next time a process starts spilling.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PREFIX = "churn_duckdb_"
_OWNED = re.compile(rf"{PREFIX}(\d+)_")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_orphans(root: str | Path | None = None) -> int:
    """Remove spill folders whose process is gone; return how many were removed."""
    removed = 0
    for path in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*_*"):
        match = _OWNED.match(path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed %d spill folders left by ended processes", removed)
    return removed


@functools.cache
def _process_folder(pid: int) -> str:
    remove_orphans()
    path = tempfile.mkdtemp(prefix=f"{PREFIX}{pid}_")
    # Only the process that made the folder removes it (a forked child has its own pid).
    atexit.register(lambda: os.getpid() == pid and shutil.rmtree(path, ignore_errors=True))
    return path


def spill_directory() -> str:
    """A new, empty folder for one DuckDB connection's spill files."""
    return tempfile.mkdtemp(prefix="con_", dir=_process_folder(os.getpid()))


#: Characters DuckDB reads as a file pattern (glob) in a path.
GLOB_CHARACTERS = frozenset("*?[]{}")


def literal_path(path: Path) -> Path:
    """A path DuckDB reads as exactly this one file.

    DuckDB expands ``*``, ``?`` and ``[...]`` in file names, so ``events [2024].csv``
    would read ``events 2.csv`` and ``events*.csv`` every match. Such a file is read
    through a link with a plain name in this process's folder (removed at exit).
    """
    if not GLOB_CHARACTERS & set(str(path)):
        return path
    folder = Path(tempfile.mkdtemp(prefix="link_", dir=_process_folder(os.getpid())))
    link = folder / f"events{_plain_suffix(path.name)}"
    os.symlink(path.resolve(), link)
    return link


def _plain_suffix(name: str) -> str:
    """The last two suffixes of ``name`` (``.csv.gz``) without pattern characters."""
    suffix = "".join(Path(name).suffixes[-2:])
    return suffix.translate({ord(c): "_" for c in GLOB_CHARACTERS | {"/", "\\", " "}})


def upload_file(name: str) -> Path:
    """A new, empty file for an upload, named with ``name``'s suffixes, in this process's
    folder (removed at exit; folders of killed processes are removed at the next start)."""
    folder = Path(tempfile.mkdtemp(prefix="upload_", dir=_process_folder(os.getpid())))
    return folder / f"events{_plain_suffix(name) or '.csv'}"


def is_upload_file(path: Path) -> bool:
    """True when ``path`` was made by :func:`upload_file` in this process (safe to delete)."""
    folder = Path(_process_folder(os.getpid()))
    return path.parent.parent == folder and path.parent.name.startswith("upload_")


def scratch_file(suffix: str = "") -> Path:
    """A new, empty file in this process's folder (removed with it at exit)."""
    fd, name = tempfile.mkstemp(prefix="copy_", suffix=suffix, dir=_process_folder(os.getpid()))
    os.close(fd)
    return Path(name)

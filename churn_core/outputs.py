"""Writing results safely: checked output paths, atomic files and folders, one writer at a time.

Every file churn-radar writes goes through here, so that

- a mistaken ``--out`` (under a file, an existing folder where a file goes, the
  input itself, a folder that does not exist, a read-only place) is refused with
  a :class:`~churn_core.problems.ChurnDataError` before any work is done;
- a run that is killed, or a full disk, never leaves half a file or a mix of
  old and new files: each file is written beside its target and renamed into
  place (:func:`write_file`); a folder of files that belong together (a model
  bundle) is written as a new folder and swapped in (:func:`replace_folder`);
- two runs writing the same output do not interleave: the second is refused
  with ``OUTPUT_BUSY`` (:func:`writer_lock`; the lock is released when the
  process ends, killed or not).

Problem codes (errors): ``OUTPUT_UNDER_FILE``, ``OUTPUT_IS_FOLDER``,
``OUTPUT_NOT_FOLDER``, ``OUTPUT_NO_FOLDER``, ``OUTPUT_IS_INPUT``,
``OUTPUT_NOT_WRITABLE``, ``OUTPUT_NOT_OURS``, ``OUTPUT_BUSY``, ``OUTPUT_WRITE_FAILED``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from churn_core.problems import ChurnDataError, Problem

_HELD: set[str] = set()           # locks this process holds (the lock is re-entrant here)
_HELD_GUARD = threading.Lock()

__all__ = ["file_sha256", "output_path", "replace_folder", "write_file", "writer_lock",
           "writing"]


def _refuse(code: str, message: str, action: str, path: Path) -> ChurnDataError:
    return ChurnDataError([Problem(code, "error", message, values=(str(path),), action=action)])


def output_path(path: str | Path, *, inputs: Iterable[str | Path] = (),
                directory: bool = False) -> Path:
    """Check that ``path`` can be written (a file, or a folder when ``directory``).

    Parameters
    ----------
    path : str or Path
        Where the output goes.
    inputs : iterable of str or Path
        Files read by the same run; writing over one of them is refused.
    directory : bool
        The output is a folder (created, with its parents, when missing).

    Returns
    -------
    Path

    Raises
    ------
    ChurnDataError
        ``OUTPUT_UNDER_FILE``, ``OUTPUT_IS_FOLDER``, ``OUTPUT_NOT_FOLDER``,
        ``OUTPUT_NO_FOLDER``, ``OUTPUT_IS_INPUT`` or ``OUTPUT_NOT_WRITABLE``.
    """
    out = Path(path)
    if not str(path).strip():
        raise _refuse("OUTPUT_NO_FOLDER", "The output path is empty.", "give a path", out)
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise _refuse("OUTPUT_UNDER_FILE", f"Cannot write {out}: {parent} is a file, not a "
                          "folder.", "choose a path inside a folder", out)
    for given in inputs:
        if _same_file(out, Path(given)):
            raise _refuse("OUTPUT_IS_INPUT", f"{out} is also the input {given}; writing there "
                          "would destroy it.", "write the output to another path", out)
    if directory:
        if out.exists() and not out.is_dir():
            raise _refuse("OUTPUT_NOT_FOLDER", f"{out} is a file; this output is a folder.",
                          "give a folder path", out)
    else:
        if out.is_dir():
            raise _refuse("OUTPUT_IS_FOLDER", f"{out} is a folder; this output is a file.",
                          f"give a file path, e.g. {out / 'scores.csv'}", out)
        if not out.parent.is_dir():
            raise _refuse("OUTPUT_NO_FOLDER", f"The folder {out.parent} does not exist.",
                          "create it first or choose an existing folder", out)
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    # a folder must be writable and searchable; a file only writable (X_OK on a file asks
    # whether it is executable: an existing output would always be refused)
    if not os.access(existing, os.W_OK | (os.X_OK if existing.is_dir() else 0)):
        raise _refuse("OUTPUT_NOT_WRITABLE", f"{existing} cannot be written to.",
                      "choose a folder you may write to", out)
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _write_failed(path: Path, exc: OSError) -> ChurnDataError:
    why = exc.strerror or str(exc)
    hint = ("free some disk space" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "check the path and the permissions")
    return _refuse("OUTPUT_WRITE_FAILED", f"Could not write {path}: {why}. Nothing was "
                   "changed there.", hint, path)


def write_file(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, renamed into place.

    A killed run or a full disk leaves the previous file as it was.

    Raises
    ------
    ChurnDataError
        ``OUTPUT_WRITE_FAILED`` (disk full, permissions), the temporary file removed.
    """
    out = Path(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise _write_failed(out, exc) from None
    return out


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; renamed onto ``path`` when the block succeeds.

    For writers that want a path (``DataFrame.to_parquet``). On any failure the
    temporary file is removed and ``path`` is left as it was.

    Raises
    ------
    ChurnDataError
        ``OUTPUT_WRITE_FAILED`` when writing or renaming fails (disk full...).
    """
    out = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_failed(out, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def writer_lock(path: str | Path) -> Iterator[None]:
    """Hold the one-writer lock of output ``path`` (a hidden file beside it).

    The lock is an ``flock`` on ``.<name>.lock`` in the same folder: the
    operating system releases it when the process ends, even when killed. Within
    one process it is re-entrant (a command holds it around the save that takes it
    again); two threads of one process are not kept apart by it.

    Raises
    ------
    ChurnDataError
        ``OUTPUT_BUSY`` when another run holds it.
    """
    out = Path(path).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.parent / f".{out.name}.lock"
    with _HELD_GUARD:
        held = str(lock) in _HELD
    if held:  # this process holds it already (a command around a save); the guard is not
        yield  # kept while the caller works, or a nested lock of another path would wait
        return
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refuse("OUTPUT_BUSY", f"Another run is writing {out} right now.",
                          "wait for it to finish, or write somewhere else", out) from None
        with _HELD_GUARD:
            _HELD.add(str(lock))
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD.discard(str(lock))
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def replace_folder(path: str | Path, *, ours: Iterable[str]) -> Iterator[Path]:
    """Build a folder's new content in a temporary folder, then swap it in.

    Yields the temporary folder (same parent, so the rename stays on one disk).
    On success the old folder is moved aside and the new one renamed into place
    (two renames; a run killed between them leaves the old folder, complete, as
    ``.<name>.old-*`` beside it). On failure the temporary folder is removed and
    the old folder is untouched. Holds :func:`writer_lock` throughout.

    Parameters
    ----------
    path : str or Path
        The folder to write.
    ours : iterable of str
        File names this output consists of; an existing folder holding anything
        else is refused (``OUTPUT_NOT_OURS``), so a user's other files are never
        swapped away.
    """
    out = Path(path).absolute()
    allowed = set(ours)
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in allowed)
        if foreign:
            raise _refuse("OUTPUT_NOT_OURS", f"{out} already holds other files "
                          f"({', '.join(foreign[:5])}); they would be replaced.",
                          "choose a new or empty folder", out)
    with writer_lock(out):
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        except OSError as exc:
            raise _write_failed(out, exc) from None
        try:
            yield tmp
            os.chmod(tmp, 0o755)
            _swap(tmp, out)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _write_failed(out, exc) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _swap(new: Path, out: Path) -> None:
    if not out.exists():
        os.rename(new, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / out.name)
    os.rename(new, out)
    shutil.rmtree(old, ignore_errors=True)

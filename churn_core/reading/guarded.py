"""Read an untrusted upload in a child process, so a bad file cannot take the app down.

:func:`read_table_guarded` runs :func:`churn_core.reading.table.read_table` in a fresh
Python process with a wall-clock timeout and an address-space limit
(``RLIMIT_AS``). Whatever the file does to the parser (a crash in a C
extension, a memory blow-up, a pathological slow path), the calling process
gets a :class:`~churn_core.problems.ChurnDataError` with one of

``READ_TIMEOUT``
    the parse took longer than ``timeout_s``;
``READ_OUT_OF_MEMORY``
    it needed more than ``memory_mb``;
``READ_CRASHED``
    the child died any other way.

The table comes back as an Arrow IPC file and the problems as JSON: nothing the
user supplied is ever pickled or unpickled. The child is started with
``subprocess`` (no fork of a threaded server) and sets its own limits before
importing pandas.

Run as a module (``python -m churn_core.reading.guarded IN OUT MEMORY_MB CPU_S``) it is
the child side; that interface is private.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from churn_core.problems import ChurnDataError, Problem
from churn_core.threads import compute_threads

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from churn_core.reading.table import ReadOptions, ReadResult

__all__ = ["default_memory_mb", "limit_self", "raise_recorded_error", "read_table_guarded",
           "run_child", "write_error"]

logger = logging.getLogger(__name__)

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_EXIT_OK, _EXIT_DATA_ERROR, _EXIT_MEMORY = 0, 3, 4
_ARROW_THREADS = "CHURN_ARROW_THREADS"
_MEMORY_SIGNS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory",
                 "OOM", "Out of memory",
                 "failed to map segment")  # a library that no longer fits the address space


def read_table_guarded(data: bytes | str | Path, *, name: str | None = None,
                       options: ReadOptions | None = None, timeout_s: float = 120,
                       memory_mb: int = 4096) -> ReadResult:
    """Read an uploaded table in a child process with a time and memory limit.

    Parameters
    ----------
    data : bytes, str or Path
        The uploaded file's content, or the path of a file (read by the child itself,
        not copied).
    name : str, optional
        The file name shown in messages (and used as a format hint); defaults to the
        path's name, or ``"upload"``.
    options : ReadOptions, optional
        As for :func:`churn_core.reading.table.read_table`.
    timeout_s : float, default 120
        Wall-clock seconds the child may take, start-up included (~2-6 s).
    memory_mb : int, default 4096
        Address-space limit of the child in MiB.

    Returns
    -------
    ReadResult
        The same result :func:`~churn_core.reading.table.read_table` gives, frame dtypes included.

    Raises
    ------
    ChurnDataError
        Whatever ``read_table`` raises for the file (``EMPTY_FILE``, ``BINARY_FILE``...),
        or ``READ_TIMEOUT``, ``READ_OUT_OF_MEMORY``, ``READ_CRASHED``.
    """
    from churn_core.reading.table import ReadOptions

    opts = options or ReadOptions()
    path = None if isinstance(data, bytes | bytearray | memoryview) else Path(data).absolute()
    name = name or (path.name if path is not None else "upload")
    with tempfile.TemporaryDirectory(prefix="churn-guard-") as tmp:
        work = Path(tmp)
        if path is None:
            (work / "input.bin").write_bytes(bytes(data))
        (work / "request.json").write_text(json.dumps(
            {"name": name, "options": _options_to_json(opts),
             "path": None if path is None else str(path)}), encoding="utf-8")
        cpu_s = int(timeout_s) + 5  # backstop if the wall clock is not enough
        cmd = [sys.executable, "-m", "churn_core.reading.guarded", str(work), str(int(memory_mb)),
               str(cpu_s)]
        run_child(cmd, name=name, timeout_s=timeout_s, memory_mb=memory_mb)
        return _collect(work)


def default_memory_mb(share: float = 0.75, cap_mb: int = 32768) -> int:
    """A memory limit for a guarded read: ``share`` of this machine's memory, at most
    ``cap_mb`` (the command line's default; the dashboard sets its own)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return 4096
    return int(max(1024, min(cap_mb, total * share)))


def run_child(cmd: list[str], *, name: str, timeout_s: float, memory_mb: int) -> None:
    """Run a child (``python -m ...``); turn a timeout, memory failure or crash into
    :class:`ChurnDataError` (``READ_TIMEOUT``, ``READ_OUT_OF_MEMORY``, ``READ_CRASHED``).
    A child that exits 0 or 3 (a ChurnDataError it wrote down) is a success here."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(_PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.setdefault("OMP_NUM_THREADS", "1")
    # pyarrow sizes its thread pool from OMP_NUM_THREADS: give the CSV reader this process's
    # share of the machine instead (measured: 1M rows x 32 columns read in about half the time)
    env[_ARROW_THREADS] = str(compute_threads())
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise _error("READ_TIMEOUT",
                     f"{name}: reading the file took longer than {timeout_s:g} seconds and "
                     "was stopped.", "upload a smaller extract or a simpler format (CSV)"
                     ) from None
    stderr = err.decode("utf-8", "replace")[-2000:]
    code = proc.returncode
    if code in (_EXIT_OK, _EXIT_DATA_ERROR):
        return
    logger.warning("guarded read of %s failed with exit %s: %s", name, code, stderr)
    if code == _EXIT_MEMORY or code == -signal.SIGKILL or any(s in stderr for s in _MEMORY_SIGNS):
        raise _error("READ_OUT_OF_MEMORY",
                     f"{name}: reading the file needed more than {memory_mb:,} MB of memory "
                     "and was stopped.", "upload a smaller extract")
    how = f"signal {-code}" if code < 0 else f"exit status {code}"
    raise _error("READ_CRASHED",
                 f"{name}: the file reader stopped unexpectedly ({how}); the file may be "
                 "damaged.", "export the table again as CSV and upload that")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _error(code: str, message: str, action: str = "") -> ChurnDataError:
    return ChurnDataError([Problem(code, "error", message, action=action)])


def _options_to_json(opts: ReadOptions) -> dict[str, Any]:
    return {f.name: list(v) if isinstance(v := getattr(opts, f.name), tuple) else v
            for f in fields(opts)}


def _problem_to_json(p: Problem) -> dict[str, Any]:
    return asdict(p)


def _problem_from_json(d: dict[str, Any]) -> Problem:
    return Problem(**{**d, "rows": tuple(d["rows"]), "values": tuple(d["values"])})


def _collect(work: Path) -> ReadResult:
    """Rebuild the ReadResult (or the ChurnDataError) the child wrote."""
    import pandas as pd
    import pyarrow.feather as feather

    from churn_core.reading.cells import TEXT_DTYPE
    from churn_core.reading.table import ReadResult

    raise_recorded_error(work)
    meta_path = work / "result.json"
    if not meta_path.exists():
        raise _error("READ_CRASHED", "the file reader stopped without a result.")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    table = feather.read_table(work / "frame.arrow", memory_map=False)
    index = pd.RangeIndex(meta["rows"])
    frame = pd.DataFrame({
        i: pd.Series(table.column(i).to_numpy(), index=index, copy=False)
        if kind == "float64" else pd.Series(pd.array(table.column(i), dtype=TEXT_DTYPE),
                                            index=index, copy=False)
        for i, kind in enumerate(meta["dtypes"])}, index=index)
    frame.columns = meta["columns"]
    return ReadResult(frame, meta["source_name"], meta["file_format"], meta["encoding"],
                      meta["delimiter"], meta["header_row"], meta["sheet"],
                      tuple(_problem_from_json(p) for p in meta["problems"]))


def _arrow_column(series: pd.Series) -> pa.Array:
    """A frame column as an Arrow array: float64 as it is (NaN kept), anything else as text
    (missing as null)."""
    import pyarrow as pa

    from churn_core.reading.cells import TEXT_DTYPE

    if series.dtype == "float64":
        return pa.array(series.to_numpy())
    return pa.array(series.astype(TEXT_DTYPE), type=pa.large_string())


def limit_self(memory_mb: int, cpu_s: int) -> None:
    """The child's own limits: address space and CPU seconds (set before heavy imports)."""
    import resource

    limit = memory_mb * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))


def write_error(work: Path, exc: ChurnDataError) -> int:
    """Record a ChurnDataError for the parent (as JSON); return the exit status for it."""
    (work / "error.json").write_text(json.dumps([asdict(p) for p in exc.problems]),
                                     encoding="utf-8")
    return _EXIT_DATA_ERROR


def raise_recorded_error(work: Path) -> None:
    """Raise the ChurnDataError a child recorded with :func:`write_error`, if any."""
    error = work / "error.json"
    if error.exists():
        problems = json.loads(error.read_text(encoding="utf-8"))
        raise ChurnDataError([_problem_from_json(p) for p in problems])


def _child(work: Path, memory_mb: int, cpu_s: int) -> int:
    """The child side: limit itself, read, write an Arrow IPC file and JSON; return the
    exit status."""
    limit_self(memory_mb, cpu_s)
    try:
        import pyarrow as pa
        import pyarrow.feather as feather

        from churn_core.reading.table import ReadOptions, read_table

        threads = os.environ.get(_ARROW_THREADS, "")
        if threads.isdigit() and int(threads) > 0:
            pa.set_cpu_count(int(threads))

        request = json.loads((work / "request.json").read_text(encoding="utf-8"))
        raw = request["options"]
        opts = ReadOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        source = request.get("path") or (work / "input.bin").read_bytes()
        try:
            result = read_table(source, name=request["name"], options=opts)
        except ChurnDataError as exc:
            return write_error(work, exc)
        frame = result.frame
        columns = [str(c) for c in frame.columns]
        table = pa.table({f"c{i}": _arrow_column(frame.iloc[:, i])
                          for i in range(frame.shape[1])})
        feather.write_feather(table, work / "frame.arrow", compression="uncompressed")
        meta = {"columns": columns, "rows": len(frame),
                "dtypes": ["float64" if frame[c].dtype == "float64" else "str" for c in columns],
                "source_name": result.source_name, "file_format": result.file_format,
                "encoding": result.encoding, "delimiter": result.delimiter,
                "header_row": result.header_row, "sheet": result.sheet,
                "problems": [_problem_to_json(p) for p in result.problems]}
        (work / "result.json").write_text(json.dumps(meta), encoding="utf-8")
        return _EXIT_OK
    except MemoryError:
        return _EXIT_MEMORY


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))

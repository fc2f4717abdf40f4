"""Propose an event log's mapping in a child process, so a hostile file cannot hang the app.

:func:`propose_mapping_guarded` runs :func:`churn_core.events.propose_mapping` (and lists
the file's columns) in a fresh Python process with a wall-clock timeout and an
address-space limit, exactly as :func:`churn_core.reading.guarded.read_table_guarded` does for
customer tables. The answer comes back as JSON (never a pickle): the mapping's roles,
how the file is read, its problems, and the column names. A timeout, a memory blow-up
or a crash is a :class:`~churn_core.problems.ChurnDataError` (``READ_TIMEOUT``,
``READ_OUT_OF_MEMORY``, ``READ_CRASHED``).

Run as a module (``python -m churn_core.events.guarded WORK MEMORY_MB CPU_S``) it is
the child side; that interface is private.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.guarded import limit_self, raise_recorded_error, run_child, write_error

__all__ = ["propose_mapping_guarded"]

_ROLE_FIELDS = ("customer_id", "timestamp", "event_type", "amount", "quantity", "unit_price",
                "order_id", "product", "category", "rating", "return_flag")


def propose_mapping_guarded(source: str | Path, *, timeout_s: float = 180,
                            memory_mb: int = 4096) -> tuple[Any, list[str]]:
    """Propose the mapping of an event log in a child process with time and memory limits.

    Parameters
    ----------
    source : str or Path
        The event-log file.
    timeout_s : float
        Wall-clock seconds the child may take.
    memory_mb : int
        Address-space limit of the child in MiB.

    Returns
    -------
    mapping : EventMapping
        As :func:`churn_core.events.propose_mapping` gives it (problems included).
    columns : list of str
        The file's column names, in file order.

    Raises
    ------
    ChurnDataError
        What ``propose_mapping`` raises for the file, or ``READ_TIMEOUT``,
        ``READ_OUT_OF_MEMORY``, ``READ_CRASHED``.
    """
    path = Path(source).absolute()
    with tempfile.TemporaryDirectory(prefix="churn-guard-") as tmp:
        work = Path(tmp)
        (work / "request.json").write_text(json.dumps({"path": str(path)}), encoding="utf-8")
        cmd = [sys.executable, "-m", "churn_core.events.guarded", str(work),
               str(int(memory_mb)), str(int(timeout_s) + 5)]
        run_child(cmd, name=path.name, timeout_s=timeout_s, memory_mb=memory_mb)
        raise_recorded_error(work)
        answer = work / "result.json"
        if not answer.exists():
            raise ChurnDataError([Problem("READ_CRASHED", "error",
                                          f"{path.name}: the reader stopped without a result.")])
        result = json.loads(answer.read_text(encoding="utf-8"))
    return _mapping_from_json(result["mapping"], result["problems"]), list(result["columns"])


def _mapping_from_json(data: dict[str, Any], problems: list[dict[str, Any]]) -> Any:
    from churn_core.events.types import EventMapping, FileFormat

    fmt = data.get("file_format")
    return EventMapping(
        **{r: data.get(r) for r in _ROLE_FIELDS}, static=tuple(data.get("static") or ()),
        timestamp_format=data.get("timestamp_format"),
        decimal_comma=None if data.get("decimal_comma") is None
        else tuple(data["decimal_comma"]),
        file_format=None if fmt is None else FileFormat(**{**fmt, "sheets": tuple(fmt["sheets"])}),
        problems=tuple(Problem(**{**p, "rows": tuple(p["rows"]), "values": tuple(p["values"])})
                       for p in problems))


def _child(work: Path, memory_mb: int, cpu_s: int) -> int:
    """The child side: limit itself, propose, write JSON; return the exit status."""
    limit_self(memory_mb, cpu_s)
    import duckdb

    from churn_core.events.mapping import describe_source, propose_mapping

    path = Path(json.loads((work / "request.json").read_text(encoding="utf-8"))["path"])
    try:
        mapping = propose_mapping(path)
        with duckdb.connect() as con:
            columns = list(describe_source(con, path, mapping))
    except ChurnDataError as exc:
        return write_error(work, exc)
    (work / "result.json").write_text(json.dumps({
        "mapping": mapping.to_dict(), "columns": columns,
        "problems": [asdict(p) for p in mapping.problems]}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))

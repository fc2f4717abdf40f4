"""Reading a user's file into a table, with every automatic decision reported.

Entry points: :func:`read_table` (in this process) and :func:`read_table_guarded`
(in a child process with time and memory limits, for uploads). The modules, one per
step of reading:

- :mod:`~churn_core.reading.table`: the entry point; format, options, the result.
- :mod:`~churn_core.reading.text`: bytes to text (format sniffing, encoding, delimiter,
  header line).
- :mod:`~churn_core.reading.csvrows`: which rows were short and on which file line.
- :mod:`~churn_core.reading.excel_parquet`: typed cells of Excel and Parquet files.
- :mod:`~churn_core.reading.cells`: header names, missing tokens, ids and column types.
- :mod:`~churn_core.reading.numbers`: numbers written as text (``1.234,50``, ``$12``).
- :mod:`~churn_core.reading.notes`: the problems that say how a text file was read.
- :mod:`~churn_core.reading.guarded`: the child-process reader.

The names below are loaded on first use, so that the child process of
:mod:`~churn_core.reading.guarded` can set its memory limit before pandas is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"ReadOptions": "table", "ReadResult": "table", "read_table": "table",
            "read_table_guarded": "guarded"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)

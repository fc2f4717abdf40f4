"""Problems found in user data, and the one exception type a user can cause.

Every step that looks at user data reports what it found as :class:`Problem`
records with a stable ``code``. The UI renders them as a table, the command
line as lines on stderr; tests assert on codes and fields, never on wording.

Severity
--------
``error``
    the step cannot go on (raised inside :class:`ChurnDataError`).
``warning``
    the step went on, but the user should look (data changed or excluded).
``info``
    an automatic decision the user may want to override (encoding detected,
    column excluded, labels mapped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SEVERITIES = ("error", "warning", "info")
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One finding about the user's data.

    Parameters
    ----------
    code : str
        Stable upper-case identifier, e.g. ``"LABEL_ONE_CLASS"``.
    severity : {"error", "warning", "info"}
        ``error`` blocks the step; see the module docstring.
    message : str
        Plain-language sentence naming the column, rows and values.
    column : str or None
        The column concerned, as named in the user's file.
    rows : tuple of int
        Up to five example row numbers, 1-based data rows (row 1 is the first
        row under the header).
    count : int
        How many rows (or values) are affected in all.
    values : tuple of str
        Up to five example values, as text.
    action : str
        What was done automatically ("excluded from features", "treated as
        missing"); empty when nothing was done.
    """

    code: str
    severity: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    count: int = 0
    values: tuple[str, ...] = ()
    action: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")


class InvalidSetting(ValueError):
    """A setting the library refuses (fewer than 2 folds, a success rate above 1, an
    unknown column type, a two-character delimiter): the one error type for settings.

    The command line prints it as ``BAD_SETTING`` (exit 2), the dashboard next to the
    widget; a :class:`ValueError` so callers that catch that keep working.
    """

    code = "BAD_SETTING"


def setting_problem(exc: ValueError) -> Problem:
    """The problem the command line and the dashboard show for a refused setting."""
    return Problem(InvalidSetting.code, "error", str(exc).splitlines()[0] if str(exc) else
                   type(exc).__name__, action="change the setting")


@dataclass
class ChurnDataError(Exception):
    """Raised when user data cannot be used; carries every problem found.

    The UI and the command line render ``problems`` and never a traceback.
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        """Return the error messages joined into one readable string."""
        errors = [p for p in self.problems if p.severity == "error"] or self.problems
        return "; ".join(p.message for p in errors)

    def __str__(self) -> str:
        return self.summary()


def example_rows(mask: np.ndarray | pd.Series | Sequence[bool]) -> tuple[tuple[int, ...], int]:
    """Return the first five 1-based row numbers where ``mask`` is true, and the count.

    Parameters
    ----------
    mask : array-like of bool
        One entry per data row, in file order.

    Returns
    -------
    rows : tuple of int
        At most five 1-based row numbers.
    count : int
        Number of true entries.
    """
    arr = np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(arr)
    return tuple(int(i) + 1 for i in idx[:MAX_EXAMPLES]), int(idx.size)


def example_values(values: Iterable[object]) -> tuple[str, ...]:
    """Return up to five distinct example values as short strings, in order of appearance."""
    out: list[str] = []
    for v in values:
        s = str(v)
        if len(s) > 60:
            s = s[:57] + "..."
        if s not in out:
            out.append(s)
        if len(out) == MAX_EXAMPLES:
            break
    return tuple(out)


def describe_rows(rows: Sequence[int], count: int) -> str:
    """Render example rows and a count as ``"rows 3, 7 (2 in all)"``."""
    if count == 0:
        return "no rows"
    shown = ", ".join(str(r) for r in rows)
    word = "row" if count == 1 else "rows"
    if count <= len(rows):
        return f"{word} {shown}"
    return f"{word} {shown}, ... ({count:,} in all)"


def has_errors(problems: Iterable[Problem]) -> bool:
    """Return True when any problem has severity ``error``."""
    return any(p.severity == "error" for p in problems)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return problems as a table: severity, code, column, count, rows, values, action, message.

    Errors come first, then warnings, then info.
    """
    order = {s: i for i, s in enumerate(SEVERITIES)}
    records = [
        {
            "severity": p.severity,
            "code": p.code,
            "column": p.column or "",
            "count": p.count,
            "rows": ", ".join(str(r) for r in p.rows),
            "values": ", ".join(p.values),
            "action": p.action,
            "message": p.message,
        }
        for p in sorted(problems, key=lambda p: order[p.severity])
    ]
    columns = ["severity", "code", "column", "count", "rows", "values", "action", "message"]
    return pd.DataFrame.from_records(records, columns=columns)

"""The problems that report how a text file was read: encoding, delimiter, header line.

Shared by the customer-table reader (:mod:`churn_core.reading.table`) and the event-log
reader (:mod:`churn_core.events.textlog`), so both say the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from churn_core.problems import Problem, example_values
from churn_core.reading.text import Decoded

DELIMITER_WORDS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes",
                   " ": "runs of spaces or tabs"}
_HOW = {"bom": "from its byte-order mark",
        "later": "detected: the start is plain ASCII, later lines are not UTF-8"}


def encoding_problems(name: str, decoded: Decoded, *, note: str = "") -> list[Problem]:
    """``ENCODING_DETECTED`` (unless the user chose it) and ``ENCODING_UNCERTAIN``.

    Parameters
    ----------
    name : str
        The file's name, as the user knows it.
    decoded : Decoded
        The result of :func:`churn_core.reading.text.decode_text`.
    note : str
        Appended to the detection message (e.g. how the file is then read).
    """
    problems = []
    if decoded.how != "option":
        how = _HOW.get(decoded.how, "detected")
        problems.append(Problem(
            "ENCODING_DETECTED", "info", f"{name} was read as {decoded.encoding} ({how}){note}.",
            values=(decoded.encoding,), action="set the encoding to override"))
    if decoded.plausibility < 0.5:
        problems.append(Problem(
            "ENCODING_UNCERTAIN", "warning",
            f"{name}: the text does not look like real {decoded.encoding}; names and values "
            "may be garbled.", values=(decoded.encoding,), action="choose the encoding explicitly"))
    return problems


def delimiter_problem(name: str, delimiter: str, *, one_column: bool = False) -> Problem:
    """``DELIMITER_DETECTED``: the delimiter found (or that none split the lines)."""
    words = DELIMITER_WORDS.get(delimiter, repr(delimiter))
    message = (f"{name}: no delimiter found; read as one column." if one_column
               else f"{name}: columns are separated by {words} ({delimiter!r}).")
    return Problem("DELIMITER_DETECTED", "info", message, values=(delimiter,),
                   action="set the delimiter to override")


def skipped_lines_problem(name: str, header_line: int, skipped: Sequence[str]) -> Problem:
    """``HEADER_SKIPPED_LINES``: the header is below ``skipped``, the lines above it."""
    return Problem(
        "HEADER_SKIPPED_LINES", "info",
        f"{name}: the header is on line {header_line + 1}; {len(skipped)} line(s) above it "
        "were skipped.", count=len(skipped), values=example_values(list(skipped)),
        action="set header_row to override")


def nul_problem(name: str, text: str) -> Problem:
    """``NUL_REMOVED``: the lines holding NUL characters, which were taken out."""
    lines = [i + 1 for i, line in enumerate(text.split("\n")) if "\x00" in line]
    count = text.count("\x00")
    return Problem(
        "NUL_REMOVED", "warning",
        f"{name}: {count:,} NUL characters (byte 0) on {len(lines):,} lines were removed "
        f"(file lines {', '.join(map(str, lines[:5]))}{', ...' if len(lines) > 5 else ''}); "
        "a text file should not hold any, so the export may be damaged.",
        rows=tuple(lines[:5]), count=len(lines), action="removed; check those lines")

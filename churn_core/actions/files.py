"""Rules as an editor table, as JSON, and read from a JSON or CSV file, every cell checked.

Bad cells become one ``ACTION_RULES_INVALID`` problem per kind of mistake, naming
the column, the 1-based rule rows and the values; a file that cannot be read at
all is ``ACTION_RULES_UNREADABLE``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from churn_core.actions.rules import (
    DEFAULT_ACTIONS,
    DIRECTIONS,
    TIERS,
    ActionRule,
    ActionRules,
)
from churn_core.names import normalize_name
from churn_core.problems import ChurnDataError, Problem, example_values
from churn_core.reading.text import UndecodableError, decode_text, sniff_format, sniff_layout

log = logging.getLogger(__name__)

RULE_COLUMNS = ("keywords", "direction", "action")
MAX_RULES = 500
MAX_ACTION_CHARS = 300
MAX_FILE_BYTES = 1 << 20
_KEYWORD_SPLIT = re.compile(r"[,;|，；、\n]+")


def rules_to_frame(rules: ActionRules) -> pd.DataFrame:
    """The rules as an editable table: ``keywords`` (comma-separated), ``direction``, ``action``."""
    rows = [{"keywords": ", ".join(r.keywords), "direction": r.direction, "action": r.action}
            for r in rules.rules]
    return pd.DataFrame(rows, columns=list(RULE_COLUMNS), dtype=object)


def defaults_to_frame(rules: ActionRules) -> pd.DataFrame:
    """The tier defaults as an editable table: ``tier``, ``action`` (high, medium, low first)."""
    table = dict(rules.defaults)
    order = [t for t in TIERS if t in table] + sorted(set(table) - set(TIERS))
    return pd.DataFrame({"tier": order, "action": [table[t] for t in order]}, dtype=object)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value).strip()


def _invalid(column: str | None, message: str, rows: list[int], values: list[str],
             action: str) -> Problem:
    return Problem("ACTION_RULES_INVALID", "error", message, column=column,
                   rows=tuple(rows[:5]), count=len(rows), values=example_values(values),
                   action=action)


def _check_cells(frame: pd.DataFrame, problems: list[Problem]) -> list[ActionRule]:
    bad: dict[str, tuple[list[int], list[str]]] = {}

    def flag(kind: str, row: int, value: str) -> None:
        bad.setdefault(kind, ([], []))
        bad[kind][0].append(row)
        bad[kind][1].append(value)

    rules: list[ActionRule] = []
    for row, (keywords, direction, action) in enumerate(
            zip(frame["keywords"], frame["direction"], frame["action"], strict=True), start=1):
        words_text, direction, action = _text(keywords), _text(direction).lower(), _text(action)
        if not (words_text or direction or action):
            continue  # an empty editor row
        words = tuple(w.strip() for w in _KEYWORD_SPLIT.split(words_text) if w.strip())
        if not words:
            flag("no_keywords", row, action)
        for w in words:
            if not normalize_name(w):
                flag("bad_keyword", row, w)
        if not action:
            flag("no_action", row, words_text)
        elif len(action) > MAX_ACTION_CHARS:
            flag("long_action", row, action)
        direction = direction or "any"
        if direction not in DIRECTIONS:
            flag("direction", row, direction)
        if words and action and direction in DIRECTIONS:
            rules.append(ActionRule(words, action, direction))
    messages = {
        "no_keywords": ("keywords", "rule(s) without keywords", "give each rule at least one "
                        "keyword, or delete the row"),
        "bad_keyword": ("keywords", "keyword(s) without a letter or digit",
                        "use words from the feature names, e.g. tenure or daysince"),
        "no_action": ("action", "rule(s) without an action", "write the action to suggest"),
        "long_action": ("action", f"action(s) longer than {MAX_ACTION_CHARS} characters",
                        "shorten the action"),
        "direction": ("direction", "unknown direction(s); use one of " + ", ".join(DIRECTIONS),
                      "use any, above, below or missing (blank = any)"),
    }
    for kind, (rows, values) in bad.items():
        column, what, fix = messages[kind]
        problems.append(_invalid(column, f"{len(rows)} {what}", rows, values, fix))
    return rules


def rules_from_frame(
    frame: pd.DataFrame,
    *,
    defaults: pd.DataFrame | Mapping[str, str] | None = None,
    quiet_tiers: Sequence[str] = ("low",),
) -> ActionRules:
    """Build rules from an editor table (or a file's rows), checking every cell.

    Parameters
    ----------
    frame : DataFrame
        Columns ``keywords`` (comma-, semicolon- or ``|``-separated text, or a
        list), ``action`` and optionally ``direction`` (blank = any). Fully blank
        rows are skipped. Row numbers in problems are 1-based rows of ``frame``.
    defaults : DataFrame (``tier``, ``action``) or mapping, optional
        Default action per tier; tiers not given keep the built-in default.
    quiet_tiers : sequence of str
        Tiers that always get their default.

    Returns
    -------
    ActionRules

    Raises
    ------
    ChurnDataError
        ``ACTION_RULES_INVALID`` naming the column, the rows and the values of
        every bad cell, an unknown column or tier, or too many rules.
    """
    problems: list[Problem] = []
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in ("keywords", "action") if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in RULE_COLUMNS]
    for c in missing:
        problems.append(_invalid(c, f"the rules need a column {c!r}", [], [],
                                 "columns: keywords, action and optionally direction"))
    if unknown:
        problems.append(_invalid(unknown[0], f"unknown column(s) {', '.join(map(repr, unknown))}",
                                 [], unknown, "columns: keywords, action and optionally "
                                 "direction"))
    if missing:
        raise ChurnDataError(problems)
    if "direction" not in frame.columns:
        frame = frame.assign(direction="any")
    rules = _check_cells(frame, problems)
    if len(rules) > MAX_RULES:
        problems.append(_invalid(None, f"{len(rules):,} rules; at most {MAX_RULES} are allowed",
                                 [], [], "merge rules"))
    table = dict(DEFAULT_ACTIONS)
    if defaults is not None:
        table.update(_check_defaults(defaults, problems))
    if problems:
        raise ChurnDataError(problems)
    return ActionRules(rules=tuple(rules), defaults=table, quiet_tiers=tuple(quiet_tiers))


def _check_defaults(defaults: pd.DataFrame | Mapping[str, str],
                    problems: list[Problem]) -> dict[str, str]:
    if isinstance(defaults, pd.DataFrame):
        pairs = list(zip(defaults.get("tier", []), defaults.get("action", []), strict=True))
    else:
        pairs = list(defaults.items())
    out: dict[str, str] = {}
    for row, (tier, action) in enumerate(pairs, start=1):
        tier, action = _text(tier).lower(), _text(action)
        if tier not in TIERS:
            problems.append(_invalid("tier", f"unknown tier {tier!r}; the tiers are "
                                     + ", ".join(TIERS), [row], [tier], "use high, medium "
                                     "or low"))
        elif not action:
            problems.append(_invalid("action", f"no default action for tier {tier!r}", [row],
                                     [tier], "write the action for this tier"))
        else:
            out[tier] = action
    return out


def rules_to_json(rules: ActionRules) -> str:
    """The rules as the JSON that :func:`load_action_rules` reads."""
    doc = {"rules": [{"keywords": list(r.keywords), "direction": r.direction,
                      "action": r.action} for r in rules.rules],
           "defaults": dict(defaults_to_frame(rules).itertuples(index=False, name=None)),
           "quiet_tiers": list(rules.quiet_tiers)}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _unreadable(name: str, message: str, action: str) -> ChurnDataError:
    return ChurnDataError([Problem("ACTION_RULES_UNREADABLE", "error", f"{name}: {message}",
                                   action=action)])


def _from_json(text: str, name: str) -> ActionRules:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _unreadable(name, f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg})", "fix the JSON, or write the rules as CSV") from exc
    if isinstance(doc, list):
        doc = {"rules": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise ChurnDataError([_invalid("rules", "the JSON needs a list of rules under "
                                       "\"rules\"", [], [], "see sample_data/action_rules.json")])
    problems: list[Problem] = []
    extra = sorted(set(doc) - {"rules", "defaults", "quiet_tiers"})
    if extra:
        problems.append(_invalid(extra[0], "unknown key(s) " + ", ".join(map(repr, extra)), [],
                                 extra, "keys: rules, defaults, quiet_tiers"))
    rows, odd_rows, odd_keys = [], [], []
    for i, rule in enumerate(doc["rules"], start=1):
        if not isinstance(rule, dict):
            odd_rows.append(i)
            odd_keys.append(str(rule))
            rule = {}
        keys = sorted(set(rule) - set(RULE_COLUMNS))
        if keys:
            odd_rows.append(i)
            odd_keys.extend(keys)
        rows.append({c: rule.get(c) for c in RULE_COLUMNS})
    if odd_rows:
        problems.append(_invalid("rules", "rule(s) that are not objects with keywords, "
                                 "direction and action", odd_rows, odd_keys,
                                 "write each rule as {\"keywords\": [...], \"action\": \"...\"}"))
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(_invalid("defaults", "\"defaults\" must map tiers to actions", [],
                                 [str(defaults)], "e.g. {\"high\": \"Personal call\"}"))
        defaults = {}
    quiet = doc.get("quiet_tiers", ["low"])
    if not (isinstance(quiet, list) and all(str(t).lower() in TIERS for t in quiet)):
        problems.append(_invalid("quiet_tiers", "\"quiet_tiers\" must list tiers among "
                                 + ", ".join(TIERS), [], [str(quiet)], "e.g. [\"low\"]"))
        quiet = ["low"]
    try:
        rules = rules_from_frame(pd.DataFrame(rows, columns=list(RULE_COLUMNS), dtype=object),
                                 defaults=defaults, quiet_tiers=[str(t).lower() for t in quiet])
    except ChurnDataError as exc:
        raise ChurnDataError(problems + exc.problems) from None
    if problems:
        raise ChurnDataError(problems)
    return rules


def _from_csv(text: str, name: str) -> ActionRules:
    # The header is the first line: a rules file has no title lines to skip.
    delimiter = sniff_layout(text, header_row=0).delimiter
    try:
        records = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
    except csv.Error as exc:
        raise _unreadable(name, f"not a readable CSV ({exc})", "save the rules again as CSV"
                          ) from None
    header, body = records[0], records[1:]
    ragged = [i for i, r in enumerate(body, start=1) if len(r) != len(header)]
    if ragged:
        raise ChurnDataError([Problem(
            "ACTION_RULES_UNREADABLE", "error",
            f"{name}: {len(ragged)} rule row(s) do not have the {len(header)} fields of the "
            f"header ({delimiter!r}-separated)", rows=tuple(ragged[:5]), count=len(ragged),
            values=example_values(delimiter.join(body[i - 1]) for i in ragged),
            action="quote cells that hold the delimiter, e.g. \"tenure, signup\"")])
    return rules_from_frame(pd.DataFrame(body, columns=header, dtype=object))


def load_action_rules(source: str | Path | bytes, *, name: str | None = None) -> ActionRules:
    """Read rules from a JSON or CSV file (a path, or an upload's bytes).

    JSON: ``{"rules": [{"keywords": [...], "direction": "above", "action": "..."}],
    "defaults": {"high": "...", "medium": "...", "low": "..."}, "quiet_tiers": ["low"]}``
    (only ``rules`` is required; a bare list of rules also works).
    CSV (any delimiter, any common encoding): columns ``keywords`` (several separated
    by ``,`` ``;`` or ``|`` inside the cell), ``action`` and optionally ``direction``;
    tier defaults keep their built-in texts.

    Parameters
    ----------
    source : str, Path or bytes
        The file, or its content.
    name : str, optional
        File name for messages and the format (``.json`` / ``.csv``); defaults to the
        path's name, or ``"rules upload"`` for bytes (then JSON when it starts with
        ``{`` or ``[``).

    Raises
    ------
    ChurnDataError
        ``ACTION_RULES_UNREADABLE`` (missing, too large, empty, not text, not valid
        JSON) or ``ACTION_RULES_INVALID`` (naming the rule row, column and value).
    """
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), name or "rules upload"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise _unreadable(str(path), "no such file", "check the path")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _unreadable(name, f"{path.stat().st_size:,} bytes; a rules file is at most "
                              f"{MAX_FILE_BYTES:,}", "keep only the rules")
        data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise _unreadable(name, f"{len(data):,} bytes; a rules file is at most "
                          f"{MAX_FILE_BYTES:,}", "keep only the rules")
    kind = sniff_format(data, name)
    if kind != "csv":
        raise _unreadable(name, "empty" if kind == "empty" else f"not a text file (looks like "
                          f"{kind})", "save the rules as .json or .csv text")
    try:
        text = decode_text(data).text
    except UndecodableError as exc:
        raise _unreadable(name, str(exc), "save the file as UTF-8") from None
    suffix = Path(name).suffix.lower()
    as_json = suffix == ".json" or (
        suffix not in (".csv", ".tsv", ".txt") and text.lstrip().startswith(("[", "{")))
    rules = _from_json(text, name) if as_json else _from_csv(text, name)
    log.info("read %d action rules from %s", len(rules.rules), name)
    return rules

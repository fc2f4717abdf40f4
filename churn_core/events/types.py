"""The ground-level types of an event log: roles, file format, mapping, churn definition.

Plain frozen dataclasses and constants with no reading, SQL or modelling in them, so
every other module of :mod:`churn_core.events` imports them from here and no two modules
need each other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import pandas as pd

from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.table import ReadOptions

__all__ = ["FREQUENCIES", "ROLES", "ROLE_WORDS", "ChurnDefinition", "EventMapping", "FileFormat"]

FREQUENCIES = ("auto", "monthly", "biweekly", "weekly")

ROLES = (
    "customer_id", "timestamp", "event_type", "amount", "quantity", "unit_price",
    "order_id", "product", "category", "rating", "return_flag",
)
"""Single-column roles; ``static`` (many columns) and ``ignore`` are accepted too."""

ROLE_WORDS = {
    "customer_id": "customer id", "timestamp": "timestamp", "event_type": "event type",
    "amount": "amount", "quantity": "quantity", "unit_price": "unit price",
    "order_id": "order id", "product": "product", "category": "category", "rating": "rating",
    "return_flag": "return flag",
}


@dataclass(frozen=True)
class FileFormat:
    """How an event-log file is read (recorded in the mapping and the build summary).

    Parameters
    ----------
    kind : {"csv", "parquet", "excel"}
    encoding : str or None
        Text encoding (CSV); files not in UTF-8 are read through a UTF-8 copy.
    delimiter : str or None
        Field delimiter (CSV); ``" "`` means runs of spaces or tabs.
    header_row : int or None
        0-based line (CSV) or row (Excel) of the header; None when the file has
        no header line (columns are then named ``column_1``, ``column_2``...).
    sheets : tuple of str
        Excel sheets read; several when they share a header (stacked).
    """

    kind: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = 0
    sheets: tuple[str, ...] = ()

    def options(self) -> ReadOptions:
        """Return the :class:`ReadOptions` that read the file this way again."""
        return ReadOptions(encoding=self.encoding, delimiter=self.delimiter,
                           header_row=self.header_row,
                           sheet=self.sheets[0] if len(self.sheets) == 1 else None)

    def to_dict(self) -> dict:
        """Return a JSON-ready dict."""
        return {**dataclasses.asdict(self), "sheets": list(self.sheets)}


@dataclass(frozen=True)
class EventMapping:
    """Which column of the event log plays which role.

    Parameters
    ----------
    customer_id, timestamp : str or None
        Required roles; ``None`` only in a proposal that found no candidate
        (:func:`check_mapping` then raises).
    event_type, amount, quantity, unit_price, order_id, product, category, rating : str or None
        Optional roles; features needing a missing role are not produced.
    return_flag : str or None
        A yes/no column (``1``, ``true``, ``yes``, ``returned``...) marking a line
        as a return or cancellation.
    static : tuple of str
        Low-cardinality per-customer attributes (country, channel); the last
        known value at each cutoff becomes a feature.
    timestamp_format : str or None
        How the timestamp is read when it is not ISO text: a ``strptime``
        format, ``"epoch_s"``/``"epoch_ms"``/``"epoch_us"``/``"epoch_ns"``
        (Unix times) or ``"iso_utc"`` (ISO text with UTC offsets, converted to UTC).
    decimal_comma : tuple of str or None
        Text columns written with a decimal comma (``12,50``, ``1.234,50``);
        None: detected from the file.
    file_format : FileFormat or None
        How the file is read (encoding, delimiter, header line, sheets); None:
        detected from the file.
    problems : tuple of Problem
        What the proposal decided (info) or could not find (error).
    """

    customer_id: str | None = None
    timestamp: str | None = None
    event_type: str | None = None
    amount: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    order_id: str | None = None
    product: str | None = None
    category: str | None = None
    rating: str | None = None
    return_flag: str | None = None
    static: tuple[str, ...] = ()
    timestamp_format: str | None = None
    decimal_comma: tuple[str, ...] | None = None
    file_format: FileFormat | None = None
    problems: tuple[Problem, ...] = dataclasses.field(default=(), compare=False)

    @classmethod
    def from_string(cls, text: str) -> EventMapping:
        """Parse ``"col=role,col=role"`` (roles from :data:`ROLES`, ``static``).

        Raises
        ------
        ChurnDataError
            ``EVENTS_BAD_MAPPING`` for a malformed pair or an unknown role.
        """
        return cls().with_overrides(text)

    def with_overrides(self, text: str) -> EventMapping:
        """Return a copy with ``"col=role,..."`` applied; role ``ignore`` drops a column.

        A column given a new role loses its old one, so ``"Country=ignore"``
        removes a proposed static attribute.
        """
        fields = {r: getattr(self, r) for r in ROLES}
        static = list(self.static)
        problems = []
        for pair in filter(None, (p.strip() for p in text.split(","))):
            col, sep, role = (s.strip() for s in pair.rpartition("="))
            if not sep or not col or role not in (*ROLES, "static", "ignore"):
                problems.append(Problem(
                    "EVENTS_BAD_MAPPING", "error",
                    f"Cannot read mapping entry {pair!r}: expected column=role with a role "
                    f"among {', '.join((*ROLES, 'static', 'ignore'))}.",
                    values=(pair,)))
                continue
            fields = {r: (None if c == col else c) for r, c in fields.items()}
            static = [c for c in static if c != col]
            if role in ROLES:
                fields[role] = col
            elif role == "static":
                static.append(col)
        if problems:
            raise ChurnDataError(problems)
        return dataclasses.replace(self, **fields, static=tuple(static))

    def roles(self) -> dict[str, str]:
        """Return ``{role: column}`` for the single-column roles that are set."""
        return {r: getattr(self, r) for r in ROLES if getattr(self, r) is not None}

    def to_string(self) -> str:
        """Return the mapping as ``"col=role,..."`` (the inverse of :meth:`from_string`)."""
        pairs = [f"{c}={r}" for r, c in self.roles().items()]
        return ",".join(pairs + [f"{c}=static" for c in self.static])

    def to_dict(self) -> dict:
        """Return a JSON-ready dict of roles, static columns and how values and file are read."""
        return {**self.roles(), "static": list(self.static),
                "timestamp_format": self.timestamp_format,
                "decimal_comma": None if self.decimal_comma is None else list(self.decimal_comma),
                "file_format": self.file_format.to_dict() if self.file_format else None}


@dataclass(frozen=True)
class ChurnDefinition:
    """What churn means, and at which dates (cutoffs) customers are looked at.

    Parameters
    ----------
    window_days : int
        W: churned = no order in the W days after the cutoff (plus lead).
    active_days : int
        L: only customers who ordered in the L days up to the cutoff count.
    lead_days : int
        G: gap between the cutoff and the start of the window (time to act).
    cutoffs : {"auto", "monthly", "biweekly", "weekly"} or sequence of dates
        ``"monthly"``: every month end from ``first date + min_history_days`` to the
        last date. ``"biweekly"``/``"weekly"``: every 14/7 days back from the latest
        date whose outcome is known. ``"auto"`` (default): month ends when they leave
        enough training cutoffs for a backtest by time, else every 14 or 7 days (see
        :func:`churn_core.events.cutoffs.plan_cutoffs`). Or explicit dates (ISO
        strings or ``date``, also one comma-separated string).
    min_history_days : int
        Days of history needed before the first cutoff.
    """

    window_days: int = 90
    active_days: int = 365
    lead_days: int = 0
    cutoffs: str | tuple[date, ...] = "auto"
    min_history_days: int = 90

    def __post_init__(self) -> None:
        bad = [f"{k}={getattr(self, k)!r}" for k in ("window_days", "active_days")
               if not isinstance(getattr(self, k), int) or getattr(self, k) < 1]
        bad += [f"{k}={getattr(self, k)!r}" for k in ("lead_days", "min_history_days")
                if not isinstance(getattr(self, k), int) or getattr(self, k) < 0]
        cutoffs = self.cutoffs
        if isinstance(cutoffs, str) and cutoffs not in FREQUENCIES:
            cutoffs = tuple(c for c in cutoffs.split(",") if c.strip())
        if not isinstance(cutoffs, str):
            try:
                cutoffs = tuple(sorted({pd.Timestamp(c).date() for c in cutoffs}))
            except (ValueError, TypeError):
                bad.append(f"cutoffs={self.cutoffs!r}")
                cutoffs = ()
            if not cutoffs:
                bad.append("cutoffs=() (give 'auto', 'monthly', 'weekly' or dates)")
        if bad:
            raise ChurnDataError([Problem(
                "EVENTS_BAD_DEFINITION", "error",
                "Invalid churn definition: " + ", ".join(bad) + " (days must be whole "
                "numbers, window and active period at least 1; cutoffs "
                + "/".join(FREQUENCIES) + " or dates).",
                values=tuple(bad))])
        object.__setattr__(self, "cutoffs", cutoffs)

    @property
    def horizon_days(self) -> int:
        """Days after a cutoff needed to know its outcome (lead + window)."""
        return self.lead_days + self.window_days

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (dates as ISO strings)."""
        d = dataclasses.asdict(self)
        if not isinstance(self.cutoffs, str):
            d["cutoffs"] = [c.isoformat() for c in self.cutoffs]
        return d

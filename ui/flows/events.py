"""Events page: upload a raw log, confirm its mapping, stage it, count cutoffs, build tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from churn_core import pipeline
from churn_core.pipeline import ROLES, ChurnDataError, ChurnDefinition, Progress
from ui import uploads
from ui.flows.data import load_frame
from ui.state import StateKeys, get, put

K = StateKeys
ROLE_CHOICES = ["ignore", *ROLES, "static"]
VALUE_FEATURE_LABELS = {
    "auto": "Keep them when they improve the backtest",
    "keep": "Always keep them",
    "off": "Leave them out",
}


@dataclass(frozen=True)
class MappingProposal:
    """What the reader proposes for an uploaded log: the mapping and every column name."""

    mapping: Any
    columns: tuple[str, ...]

    def role_table(self) -> pd.DataFrame:
        """One row per column with its proposed role (``ignore`` when it has none)."""
        role_of = {col: role for role, col in self.mapping.roles().items()}
        role_of |= dict.fromkeys(self.mapping.static, "static")
        return pd.DataFrame({"column": list(self.columns),
                             "role": [role_of.get(c, "ignore") for c in self.columns]})


@dataclass(frozen=True)
class CutoffCounts:
    """Customers and churn rate per cutoff, for the churn definition they were counted with."""

    definition: ChurnDefinition
    summary: pd.DataFrame


def new_upload(data: bytes, name: str, file_id: str) -> None:
    """Keep an uploaded log (a private file) and propose its mapping; drops earlier results.

    A log the reader cannot use leaves its problems in ``EVENTS_PROBLEMS``.
    """
    put(K.EVENTS_ID, file_id)
    for key in (K.EVENTS_MAPPING, K.EVENTS_LOG, K.EVENTS_SUMMARY, K.EVENTS_BUILD,
                K.EVENTS_PROBLEMS):
        put(key, None)
    path = uploads.save_events_upload(data, name, replaces=get(K.EVENTS_PATH))
    put(K.EVENTS_PATH, path)
    try:
        mapping, columns = uploads.propose_events(path)
        put(K.EVENTS_MAPPING, MappingProposal(mapping, tuple(columns)))
    except ChurnDataError as exc:
        put(K.EVENTS_PROBLEMS, list(exc.problems))


def roles_from_table(edited: pd.DataFrame) -> tuple[dict[str, str | None], list[str]]:
    """The roles and static columns a user set in the role table (``role_table``'s shape)."""
    roles: dict[str, str | None] = dict.fromkeys(ROLES)
    static: list[str] = []
    for col, role in zip(edited["column"], edited["role"], strict=True):
        if role == "static":
            static.append(col)
        elif role in roles:
            roles[role] = col
    return roles, static


def stage(proposal: MappingProposal, edited: pd.DataFrame, *, drop_duplicates: bool,
          progress: Progress | None = None) -> None:
    """Confirm the user's roles and stage the log (DuckDB); raises ChurnDataError if unusable."""
    put(K.EVENTS_SUMMARY, None)
    put(K.EVENTS_BUILD, None)
    put(K.EVENTS_LOG, None)
    roles, static = roles_from_table(edited)
    chosen = pipeline.confirm_roles(get(K.EVENTS_PATH), proposal.mapping, roles, static)
    put(K.EVENTS_LOG, pipeline.prepare_log(get(K.EVENTS_PATH), chosen,
                                           drop_duplicates=drop_duplicates, progress=progress))


def cutoff_counts(log: Any, definition: ChurnDefinition) -> pd.DataFrame:
    """Customers per cutoff for ``definition``, counted once per definition."""
    stored = get(K.EVENTS_SUMMARY)
    if stored is None or stored.definition != definition:
        stored = CutoffCounts(definition, pipeline.cutoff_summary(log, definition=definition))
        put(K.EVENTS_SUMMARY, stored)
    return stored.summary



def use_training_table(result: Any, name: str) -> bool:
    """Make an event-log training table the current dataset (id, label, cutoff set)."""
    return load_frame(result.training, name, f"events:{name}:{len(result.training)}",
                      overrides=pipeline.event_overrides(result.training),
                      feature_labels=result.feature_labels)


def days_covered(first_day: Any, last_day: Any) -> int:
    """Days from the first to the last day of the log, both counted (0 when unknown)."""
    first, last = pd.to_datetime(first_day, errors="coerce"), pd.to_datetime(last_day,
                                                                             errors="coerce")
    if pd.isna(first) or pd.isna(last):
        return 0
    return int((last.normalize() - first.normalize()).days) + 1


def build(log: Any, definition: Any, name: str, *, value_features: str = "auto",
          progress: Progress | None = None) -> Any:
    """Build the tables (with ``customer_value``; BG/NBD features per ``value_features``),
    keep the result in state and make its training table the current dataset.

    Raises
    ------
    ChurnDataError
        When the tables cannot be built (see :func:`churn_core.pipeline.build_tables`).
    """
    result = pipeline.build_tables(log, definition=definition, value=True,
                                   value_features=value_features, progress=progress)
    put(K.EVENTS_BUILD, result)
    use_training_table(result, name)
    return result


def value_note(result: Any) -> str | None:
    """What was decided about the BG/NBD features, with both ROC-AUC figures."""
    return pipeline.value_features_note(result.summary.get("value_features"))

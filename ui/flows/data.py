"""Data page (and Home, Events): load a table and check it with the user's choices."""

from __future__ import annotations

from typing import Any

import pandas as pd

from churn_core import pipeline
from churn_core.pipeline import (
    ChurnDataError,
    Problem,
    ReadOptions,
    SchemaOverrides,
    setting_problem,
)
from ui import cache
from ui.state import (
    SAMPLE_CSV,
    StateKeys,
    clear_dataset_dependents,
    dataset_key,
    get,
    new_source,
    put,
)

K = StateKeys


def table_state(check: Any) -> dict[str, Any]:
    """The state writes that make ``check`` the current table (also used to seed tests)."""
    return {K.CHECK: check, K.DATASET_KEY: dataset_key(check), K.LOAD_PROBLEMS: None}


def set_check(check: Any) -> None:
    """Make ``check`` the current table; drop derived results when data or schema changed."""
    writes = table_state(check)
    if writes[K.DATASET_KEY] != get(K.DATASET_KEY):
        clear_dataset_dependents()
    for key, value in writes.items():
        put(key, value)


def _fail(problems: list[Problem]) -> None:
    put(K.CHECK, None)
    put(K.DATASET_KEY, None)
    put(K.LOAD_PROBLEMS, problems)
    clear_dataset_dependents()


def run_check() -> bool:
    """Read (cached) and check the current source with the stored options; True when loaded."""
    try:
        frame = get(K.SOURCE_FRAME)
        overrides = get(K.OVERRIDES)
        confirmed = tuple(get(K.CONFIRMED) or ())
        if frame is not None:
            check = pipeline.check_frame(frame, overrides=overrides, confirmed=confirmed)
        else:
            data = get(K.SOURCE_BYTES)
            if data is None:
                return False
            options = (get(K.READ_OPTIONS) or ReadOptions()).with_id(
                overrides.id_column if overrides else None)  # a chosen id is read exactly
            read = cache.read_file(cache.digest(data), data, get(K.SOURCE_NAME), options)
            check = pipeline.check_frame(read.frame, overrides=overrides, confirmed=confirmed,
                                         read=read)
    except ChurnDataError as exc:
        _fail(list(exc.problems))
        return False
    except ValueError as exc:  # a setting the library refuses (bad date, unknown type)
        _fail([setting_problem(exc)])
        return False
    set_check(check)
    return True


def load_bytes(data: bytes, name: str, source_id: str) -> bool:
    """Make an uploaded file the current table (all earlier choices and results dropped)."""
    new_source(data=data, name=name, source_id=source_id)
    return run_check()


def load_sample() -> bool:
    """Open the bundled sample table."""
    return load_bytes(SAMPLE_CSV.read_bytes(), SAMPLE_CSV.name, "sample")


def load_frame(frame: pd.DataFrame, name: str, source_id: str, *,
               overrides: SchemaOverrides | None = None,
               feature_labels: dict[str, str] | None = None) -> bool:
    """Make an in-memory table (an event-log build) the current table."""
    new_source(data=None, name=name, source_id=source_id, frame=frame,
               feature_labels=feature_labels)
    put(K.OVERRIDES, overrides)
    return run_check()


def set_read_options(options: ReadOptions | None) -> bool:
    """Re-read the file with the user's reading choices (encoding, delimiter, header)."""
    put(K.READ_OPTIONS, options)
    return run_check()


def set_overrides(overrides: SchemaOverrides | None) -> bool:
    """Re-check the table with the user's column choices (label, id, types)."""
    put(K.OVERRIDES, overrides)
    return run_check()


def set_confirmed(columns: tuple[str, ...]) -> bool:
    """Re-check with these columns confirmed as not leaking the label."""
    put(K.CONFIRMED, tuple(columns))
    return run_check()

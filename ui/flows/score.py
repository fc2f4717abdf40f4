"""Score page: load a model bundle, score a fresh customer table, and say which file is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from churn_core.pipeline import ChurnDataError, Problem, ReadOptions, load_bundle_bytes, score_frame
from ui import cache
from ui.state import StateKeys, get, put

K = StateKeys
WHAT = {"bundle": "The model bundle", "data": "The customer file"}
FIX = {"bundle": "Download a fresh model bundle on the Alerts page and upload that zip.",
       "data": "Fix the customer file (or pick another) and upload it again; the model "
               "bundle can stay."}


@dataclass(frozen=True)
class FileFailure:
    """Which of the Score page's two files could not be used.

    Attributes
    ----------
    file : {"bundle", "data"}
        The model bundle or the customer (data) file.
    name : str
        The file's name as uploaded (shown as text only).
    """

    file: Literal["bundle", "data"]
    name: str

    @property
    def headline(self) -> str:
        """``The model bundle "m.zip" cannot be used`` (the page escapes the name)."""
        return f'{WHAT[self.file]} "{self.name}" cannot be used'

    @property
    def fix(self) -> str:
        """What to do next, in one sentence."""
        return FIX[self.file]


@dataclass(frozen=True)
class ScoreRun:
    """One scored customer file: what reading it noticed, and the scores."""

    read_problems: tuple[Problem, ...]
    result: Any  # pipeline.ScoreResult


def _fail(file: Literal["bundle", "data"], name: str, exc: ChurnDataError) -> None:
    put(K.SCORE_FAILURE, FileFailure(file, str(name)))
    put(K.SCORE_PROBLEMS, list(exc.problems))


def _clear_failure() -> None:
    put(K.SCORE_FAILURE, None)
    put(K.SCORE_PROBLEMS, None)


def load_bundle(file_id: str, name: str, data: bytes) -> None:
    """Load an uploaded bundle once per upload; a bad one is recorded as a bundle failure."""
    if file_id == get(K.BUNDLE_ID):
        return
    put(K.BUNDLE_ID, file_id)
    put(K.SCORE_RESULT, None)
    put(K.SCORE_ID, None)
    try:
        put(K.BUNDLE, load_bundle_bytes(data, name=name))
        _clear_failure()
    except ChurnDataError as exc:
        put(K.BUNDLE, None)
        _fail("bundle", name, exc)


def score(file_id: str, name: str, data: bytes) -> bool:
    """Score an uploaded customer file with the loaded bundle, once per (bundle, file).

    Returns True when something new was stored (the page reruns to show it); a file
    that cannot be scored is recorded as a data failure.
    """
    bundle = get(K.BUNDLE)
    score_id = f"{get(K.BUNDLE_ID)}:{file_id}"
    if bundle is None or score_id == get(K.SCORE_ID):
        return False
    put(K.SCORE_ID, score_id)
    try:
        # the model's id column is read exactly as written (no trimming, no "NA" -> blank)
        read = cache.read_file(cache.digest(data), data, name,
                               ReadOptions().with_id(bundle.schema.id_column))
        result = score_frame(bundle, read.frame)
    except ChurnDataError as exc:
        put(K.SCORE_RESULT, None)
        _fail("data", name, exc)
        return True
    put(K.SCORE_RESULT, ScoreRun(tuple(read.problems), result))
    _clear_failure()
    return False


def failure() -> tuple[FileFailure, list[Problem]] | None:
    """The file that could not be used and its problems, or None."""
    which, problems = get(K.SCORE_FAILURE), get(K.SCORE_PROBLEMS)
    if which is None or not problems:
        return None
    return which, list(problems)


def scores_file_name(threshold: float, day: date | None = None) -> str:
    """``churn_scores_2026-12-06_threshold_0.40.csv``: the date and the threshold used."""
    return f"churn_scores_{(day or date.today()).isoformat()}_threshold_{threshold:.2f}.csv"

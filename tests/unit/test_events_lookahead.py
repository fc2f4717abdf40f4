"""Property tests: no look-ahead, and exact duplicates removed as if never there."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from churn_core.events import ChurnDefinition, EventMapping, prepare_log
from churn_core.events.customer_features import feature_labels, features_sql

CUTOFF = date(2023, 6, 30)
MAPPING = EventMapping.from_string(
    "cid=customer_id,ts=timestamp,kind=event_type,order=order_id,qty=quantity,"
    "price=unit_price,sku=product,dept=category,stars=rating,land=static")
DEFINITION = ChurnDefinition(window_days=30, active_days=120, cutoffs=[CUTOFF])


def event(days: st.SearchStrategy[int]) -> st.SearchStrategy[dict]:
    """One event line; ``days`` relative to the cutoff."""
    return st.fixed_dictionaries({
        "cid": st.sampled_from(["a", "b", "c", "d"]),
        "day": days,
        "kind": st.sampled_from(["view", "purchase", "return", "review"]),
        "order": st.integers(1, 30).map(str),
        "qty": st.integers(-2, 5),
        "price": st.sampled_from([1.0, 2.5, 10.0]),
        "sku": st.sampled_from(["p1", "p2", "p3"]),
        "dept": st.sampled_from(["home", "toys"]),
        "stars": st.one_of(st.none(), st.integers(1, 5).map(float)),
        "land": st.sampled_from(["UK", "FR"]),
    })


# Which event types mean "purchase" is decided once for the whole log (by their names, or
# "every event is an order" when no name looks like a purchase); an anchor purchase long
# before the cutoff keeps that log-level decision fixed so the test is about values only.
ANCHOR = {"cid": "z", "day": -300, "kind": "purchase", "order": "0", "qty": 1, "price": 1.0,
          "sku": "p1", "dept": "home", "stars": None, "land": "UK"}


def _features(events: list[dict], folder: Path, name: str, *,
              drop_duplicates: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame([ANCHOR, *events])
    frame["ts"] = pd.Timestamp(CUTOFF) + pd.to_timedelta(frame.pop("day"), unit="D")
    path = folder / f"{name}.parquet"
    frame.to_parquet(path)
    log = prepare_log(path, MAPPING, drop_duplicates=drop_duplicates)
    sql = features_sql(log, CUTOFF, DEFINITION, with_label=False)
    frame = log.con.execute(sql).df().sort_values("customer_id", ignore_index=True)
    # every feature the builder can produce is mapped here, so the property covers them all
    assert set(feature_labels(log)) <= set(frame.columns)
    return frame


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(past=st.lists(event(st.integers(-200, 0)), min_size=1, max_size=25),
       future=st.lists(event(st.integers(1, 60)), min_size=1, max_size=25))
def test_features_ignore_events_after_the_cutoff(past, future):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        before = _features(past, folder, "past")
        after = _features(past + future, folder, "all")
    common = [c for c in before.columns if c in after.columns]
    pd.testing.assert_frame_equal(before[common], after[common], check_dtype=False)


def with_copies(days: st.SearchStrategy[int]) -> st.SearchStrategy[list[dict]]:
    """Events plus exact copies of some of them (a line may come 2, 3 or more times)."""
    return st.lists(event(days), min_size=1, max_size=20).flatmap(
        lambda events: st.lists(st.sampled_from(events), min_size=1, max_size=15)
        .map(lambda copies: events + copies))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(events=with_copies(st.integers(-150, 0)))
def test_duplicates_are_taken_off_as_if_never_there(events):
    unique = pd.DataFrame(events).drop_duplicates().to_dict("records")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dropped = _features(events, folder, "copies")
        clean = _features(unique, folder, "clean", drop_duplicates=False)
    # event-type columns come most frequent first, counted over every line read
    pd.testing.assert_frame_equal(dropped, clean, check_dtype=False, check_like=True, rtol=1e-9)

"""Issue 14 on event logs: SQL injection through timestamp_format, paths DuckDB would read
as patterns, nonsense logs (future dates, returns only), and the format given by the user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn_core.events import build_tables, prepare_log, propose_mapping
from churn_core.events.types import ChurnDefinition
from churn_core.problems import ChurnDataError

ROOT = Path(__file__).resolve().parents[2]


def _log(n: int = 3000, seed: int = 0, *, fmt: str = "%Y-%m-%d") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    return pd.DataFrame({"customer_id": rng.integers(1, 200, n),
                         "order_date": days.strftime(fmt),
                         "amount": rng.gamma(2, 20, n).round(2)})


def _messages(exc: ChurnDataError) -> str:
    return " ".join(f"{p.message} {p.values} {p.action}" for p in exc.problems)


# Before the fix the first one put the file's content into the error message (a cast of
# the subquery's text to INT fails and quotes it); the others try other SQL shapes.
INJECTIONS = [
    "%H'), (SELECT content FROM read_text('{secret}'))::INT::TIMESTAMP, try_strptime(NULL, '%Y",
    "%d'), (SELECT content FROM read_text('{secret}'))) --",
    "%Y'); COPY (SELECT 1) TO '{secret}.out'; --",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_timestamp_format_never_runs_as_sql(tmp_path, template):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711")
    path = tmp_path / "log.csv"
    _log(fmt="%d/%m/%Y").to_csv(path, index=False)  # not ISO: the format is used
    fmt = template.format(secret=secret)
    with pytest.raises(ChurnDataError) as info:
        mapping = propose_mapping(path, timestamp_format=fmt)
        prepare_log(path, mapping)
    assert "TOPSECRET" not in _messages(info.value)
    assert not Path(f"{secret}.out").exists()
    proc = subprocess.run([sys.executable, "-m", "churn_core", "build", str(path), "--out",
                           str(tmp_path / "out"), "--timestamp-format", fmt],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "TOPSECRET" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("fmt", ["%Q-%m", "no percent", "%Y\n%m"])
def test_unusable_timestamp_formats_are_refused_up_front(tmp_path, fmt):
    path = tmp_path / "log.csv"
    _log(200).to_csv(path, index=False)
    with pytest.raises(ChurnDataError) as info:
        propose_mapping(path, timestamp_format=fmt)
    assert [p.code for p in info.value.problems] == ["EVENTS_BAD_TIME_FORMAT"]


def test_a_given_format_wins_over_iso(tmp_path):
    """'2023-01-02' read with %Y-%d-%m is 1 February, not 2 January."""
    path = tmp_path / "log.csv"
    pd.DataFrame({"customer_id": [1, 2], "order_date": ["2023-01-02", "2023-03-04"],
                  "amount": [5.0, 6.0]}).to_csv(path, index=False)
    log = prepare_log(path, propose_mapping(path, timestamp_format="%Y-%d-%m"))
    assert (str(log.first_day), str(log.last_day)) == ("2023-02-01", "2023-04-03")


@pytest.mark.parametrize("name", ["events [2024].csv", "events*.csv", "events?.csv",
                                  "events{a,b}.csv"])
def test_a_path_is_read_as_exactly_that_file(tmp_path, name):
    wanted = _log(300, seed=1)
    wanted.to_csv(tmp_path / name, index=False)
    for other, seed in (("events 2.csv", 2), ("events1.csv", 3), ("eventsa.csv", 4)):
        _log(500, seed=seed).to_csv(tmp_path / other, index=False)
    log = prepare_log(tmp_path / name, propose_mapping(tmp_path / name))
    assert log.rows_read == 300


def test_dates_in_the_future_are_an_error_not_a_2099_cutoff(tmp_path):
    t = _log()
    future = np.random.default_rng(9).random(len(t)) < 0.3
    t.loc[future, "order_date"] = "2099" + t.loc[future, "order_date"].str[4:].str.replace(
        "02-29", "02-28")
    path = tmp_path / "future.csv"
    t.to_csv(path, index=False)
    with pytest.raises(ChurnDataError) as info:
        build_tables(path, propose_mapping(path), ChurnDefinition())
    p = info.value.problems[0]
    assert p.code == "EVENTS_FUTURE_DATES" and p.count == int(future.sum())
    assert p.column == "order_date"


def test_a_log_of_returns_only_is_an_error(tmp_path):
    t = _log()
    t["amount"] = -t["amount"]
    path = tmp_path / "neg.csv"
    t.to_csv(path, index=False)
    proc = subprocess.run([sys.executable, "-m", "churn_core", "build", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 2 and "EVENTS_NO_PURCHASES" in proc.stderr
    assert not (tmp_path / "out" / "training.parquet").exists()


def test_the_event_log_proposal_runs_in_a_limited_child(tmp_path):
    from churn_core.events.guarded import propose_mapping_guarded

    path = tmp_path / "log.csv"
    _log(500).to_csv(path, index=False)
    mapping, columns = propose_mapping_guarded(path)
    assert mapping == propose_mapping(path) and columns == ["customer_id", "order_date",
                                                            "amount"]
    with pytest.raises(ChurnDataError) as info:
        propose_mapping_guarded(path, timeout_s=0.05)
    assert info.value.problems[0].code == "READ_TIMEOUT"


def test_a_50000_column_log_is_refused_before_duckdb_reads_it(tmp_path):
    import time

    path = tmp_path / "wide.csv"
    header = ",".join(["customer_id", "order_date"] + [f"c{i}" for i in range(49_998)])
    path.write_text(header + "\n" + ",".join(["1", "2023-01-01"] + ["1"] * 49_998) + "\n")
    start = time.perf_counter()
    with pytest.raises(ChurnDataError) as info:
        propose_mapping(path)
    assert info.value.problems[-1].code == "EVENTS_TOO_MANY_COLUMNS"
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("kwargs", [{"memory_limit": "3GB'; SELECT 1; --"},
                                    {"memory_limit": "lots"}, {"threads": 0},
                                    {"threads": "4"}])
def test_engine_settings_reaching_duckdb_are_checked(kwargs):
    from churn_core.events.staging import EngineSettings

    with pytest.raises(ChurnDataError) as info:
        EngineSettings(**kwargs)
    assert info.value.problems[0].code == "EVENTS_BAD_SETTING"

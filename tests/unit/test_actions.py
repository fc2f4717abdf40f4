"""Suggested actions: each customer's own risk-raising reasons, editable rules, rule files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churn_core.actions import (
    DEFAULT_ACTIONS,
    ActionRule,
    ActionRules,
    action_mix,
    default_rules,
    defaults_to_frame,
    load_action_rules,
    parse_reason,
    rules_from_frame,
    rules_to_frame,
    rules_to_json,
    suggest_action,
    suggest_actions,
)
from churn_core.explain import reason_text
from churn_core.export import at_risk_table
from churn_core.features import Preprocessor
from churn_core.problems import ChurnDataError
from tests.conftest import ROOT

HIGH = DEFAULT_ACTIONS["high"]
# The wording comes from explain itself, so a change there shows up here.
PRE = Preprocessor(
    numeric=("Complain", "DaySinceLastOrder", "CashbackAmount", "Tenure", "WarehouseToHome",
             "SatisfactionScore", "OrderCount", "投诉"),
    categorical=("PreferredPaymentMode",), datetime=(),
    quantiles={"DaySinceLastOrder": (1, 3, 9), "CashbackAmount": (120, 160, 250),
               "Tenure": (1, 9, 30), "WarehouseToHome": (8, 14, 30),
               "SatisfactionScore": (1, 3, 5), "OrderCount": (1, 2, 8)},
    binary=("Complain", "投诉"))


def say(feature: str, value: object, contribution: float = 1.0) -> str:
    return reason_text(feature, value, contribution, PRE)


@pytest.mark.parametrize(
    ("feature", "value", "expected"),
    [
        ("Complain", 1, "complaint"),
        ("DaySinceLastOrder", 15, "Win-back"),
        ("CashbackAmount", 90, "coupon"),
        ("Tenure", 0, "Onboarding"),
        ("WarehouseToHome", 35, "delivery"),
        ("SatisfactionScore", 1, "Service recovery"),
        ("OrderCount", 1, "Re-engagement"),
        ("投诉", 1, "complaint"),
    ],
)
def test_default_rules_on_explain_wording(feature, value, expected):
    assert expected in suggest_action([say(feature, value)], "high")


def test_action_is_never_the_opposite_side_of_its_words():
    # The bug this module fixes: long-standing customers got "Onboarding ... new customer".
    assert suggest_action([say("Tenure", 30)], "high") == HIGH
    assert suggest_action([say("Complain", 0)], "high") == HIGH          # "Complain: no"
    assert suggest_action([say("SatisfactionScore", 5)], "medium") == DEFAULT_ACTIONS["medium"]
    # a value at the typical one states no side: the rule applies
    assert "Win-back" in suggest_action([say("DaySinceLastOrder", 3)], "high")


def test_risk_lowering_and_missing_reasons_drive_no_action():
    lowering = say("Complain", 1, contribution=-1.0)
    assert lowering.endswith("(lowers risk)")
    assert parse_reason(lowering) is None
    assert suggest_action([lowering], "high") == HIGH
    missing = say("Complain", np.nan)
    assert parse_reason(missing) == ("complain", "missing")
    assert suggest_action([missing], "high") == HIGH
    asked = ActionRules((ActionRule(("complain",), "Ask about complaints", "missing"),),
                        DEFAULT_ACTIONS)
    assert suggest_action([missing], "high", asked) == "Ask about complaints"
    assert suggest_action([say("Complain", 1)], "high", asked) == HIGH


def test_values_are_not_matched_only_feature_words():
    cod = say("PreferredPaymentMode", "Cash on Delivery")
    assert parse_reason(cod) == ("preferredpaymentmode", None)
    assert suggest_action([cod], "high") == HIGH
    # custom labels from event-log builds have no "is": the whole text is the feature words
    assert "Win-back" in suggest_action(["45 days since the last order (raises risk)"], "high")


def test_rule_order_decides_not_reason_order():
    rules = ActionRules((ActionRule(("tenure",), "first"), ActionRule(("complain",), "second")),
                        DEFAULT_ACTIONS)
    a, b = say("Complain", 1), say("Tenure", 0)
    assert suggest_action([a, b], "high", rules) == "first"
    assert suggest_action([b, a], "high", rules) == "first"
    swapped = ActionRules(tuple(reversed(rules.rules)), DEFAULT_ACTIONS)
    assert suggest_action([b, a], "high", swapped) == "second"
    assert suggest_action([a], "low", rules) == DEFAULT_ACTIONS["low"]     # quiet tier
    assert suggest_action([], "unknown tier", rules) == HIGH


def test_no_segment_fallback_in_the_table():
    n = 4
    table = at_risk_table(
        [f"c{i}" for i in range(n)], np.linspace(0.9, 0.6, n), ["high", "high", "medium", "low"],
        ["New customers, low tenure"] * n,
        pd.DataFrame({"reason_1": [say("Tenure", 30), "", say("Complain", 1), say("Tenure", 0)],
                      "reason_2": ["", "", "", ""], "reason_3": ["", None, "", ""]}), None,
        keep_order=True)
    assert table["suggested_action"].tolist() == [
        HIGH, HIGH, "Call to resolve the open complaint", DEFAULT_ACTIONS["low"]]
    assert table["segment"].eq("New customers, low tenure").all()
    custom = ActionRules((), {"high": "H", "medium": "M", "low": "L"})
    again = at_risk_table(["a"], [0.9], ["high"], ["x"], None, None, rules=custom)
    assert again["suggested_action"].tolist() == ["H"]


TEXTS = [say("Complain", 1), say("Complain", 0), say("DaySinceLastOrder", 15),
         say("DaySinceLastOrder", 3), say("CashbackAmount", 90), say("Tenure", 30),
         say("Tenure", 0), say("Tenure", np.nan), say("Tenure", 1, -1.0),
         say("PreferredPaymentMode", "COD"), say("SatisfactionScore", 1), "", None, np.nan,
         "45 days since the last order (raises risk)", "something else entirely"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_equals_row_by_row(seed):
    rng = np.random.default_rng(seed)
    words = ["complain", "tenure", "daysince", "cashback", "payment", "satisfaction", "order"]
    rules = ActionRules(
        tuple(ActionRule(tuple(rng.choice(words, rng.integers(1, 3), replace=False)),
                         f"action {i}", str(rng.choice(["any", "above", "below", "missing"])))
              for i in range(int(rng.integers(0, 6)))),
        {"high": "H", "medium": "M", "low": "L"},
        quiet_tiers=("low",) if seed else ())
    n = 2000
    pick = rng.integers(0, len(TEXTS), size=(n, 3))
    reasons = pd.DataFrame({f"reason_{i + 1}": pd.Series([TEXTS[j] for j in pick[:, i]],
                                                         dtype=object) for i in range(3)})
    tiers = rng.choice(["high", "medium", "low", "HIGH", ""], n)
    fast = suggest_actions(reasons, tiers, rules)
    slow = [suggest_action(list(r), t, rules)
            for r, t in zip(reasons.itertuples(index=False), tiers, strict=True)]
    assert list(fast) == slow
    assert list(suggest_actions(reasons, tiers)) == [
        suggest_action(list(r), t) for r, t in zip(reasons.itertuples(index=False), tiers,
                                                   strict=True)]


REASON = st.one_of(
    st.none(), st.sampled_from(TEXTS),
    st.builds(lambda label, tail: f"{label}{tail}", st.text(max_size=20),
              st.sampled_from(["", " is x (raises risk)", ": yes (raises risk)", " is missing",
                               " is 3, above the typical 1 (raises risk)", " (lowers risk)"])))


@settings(max_examples=60, deadline=None)
@given(reasons=st.lists(st.tuples(REASON, REASON, REASON), min_size=1, max_size=20),
       tiers=st.lists(st.sampled_from(["high", "medium", "low", "x"]), min_size=20,
                      max_size=20))
def test_any_text_vectorised_equals_row_by_row(reasons, tiers):
    frame = pd.DataFrame(reasons, columns=["reason_1", "reason_2", "reason_3"], dtype=object)
    tiers = tiers[:len(frame)]
    expected = [suggest_action(list(r), t) for r, t in zip(reasons, tiers, strict=True)]
    assert list(suggest_actions(frame, tiers)) == expected


def test_action_mix():
    mix = action_mix(np.array(["b", "a", "b", "c", "a", "b"], dtype=object))
    assert mix["action"].tolist() == ["b", "a", "c"]
    assert mix["customers"].tolist() == [3, 2, 1]
    assert mix["share"].sum() == pytest.approx(1.0)
    assert action_mix([]).empty


def test_editor_table_round_trip_and_blank_rows():
    rules = default_rules()
    frame = rules_to_frame(rules)
    assert list(frame.columns) == ["keywords", "direction", "action"]
    assert rules_from_frame(frame, defaults=defaults_to_frame(rules)) == rules
    edited = pd.concat([frame, pd.DataFrame([{"keywords": None, "direction": None,
                                              "action": None}])], ignore_index=True)
    assert rules_from_frame(edited) == rules
    one = rules_from_frame(pd.DataFrame({"keywords": ["Payment Mode; cod"],
                                         "action": ["Offer a prepaid discount"]}))
    assert one.rules == (ActionRule(("Payment Mode", "cod"), "Offer a prepaid discount"),)


def _codes(exc: ChurnDataError) -> dict[str, object]:
    return {(p.code, p.column): p for p in exc.problems}


def test_bad_cells_name_rows_and_values():
    frame = pd.DataFrame({"keywords": ["tenure", "", "!!", "complain"],
                          "direction": ["below", "any", "", "sideways"],
                          "action": ["A", "B", "C", ""]})
    with pytest.raises(ChurnDataError) as err:
        rules_from_frame(frame, defaults={"vip": "x", "high": ""})
    found = _codes(err.value)
    assert found[("ACTION_RULES_INVALID", "keywords")].rows in ((2,), (3,))
    bad = [p for p in err.value.problems if p.column == "keywords"]
    assert sorted(r for p in bad for r in p.rows) == [2, 3]
    assert "!!" in next(p for p in bad if p.rows == (3,)).values
    assert found[("ACTION_RULES_INVALID", "direction")].values == ("sideways",)
    assert found[("ACTION_RULES_INVALID", "direction")].rows == (4,)
    assert found[("ACTION_RULES_INVALID", "action")].rows in ((4,), (2,))
    assert found[("ACTION_RULES_INVALID", "tier")].values == ("vip",)
    with pytest.raises(ChurnDataError) as err:
        rules_from_frame(pd.DataFrame({"keyword": ["x"], "action": ["y"]}))
    assert {p.column for p in err.value.problems} == {"keywords", "keyword"}


def test_sample_rules_file_is_the_defaults():
    assert load_action_rules(ROOT / "sample_data" / "action_rules.json") == default_rules()
    assert json.loads(rules_to_json(default_rules()))["defaults"]["low"].startswith("No action")


def test_csv_rules_any_delimiter_and_encoding(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_bytes("keywords;direction;action\n投诉,complain;above;致电处理投诉\n"
                     "tenure;;Welcome call\n".encode("gb18030"))
    rules = load_action_rules(path)
    assert rules.rules == (ActionRule(("投诉", "complain"), "致电处理投诉", "above"),
                           ActionRule(("tenure",), "Welcome call", "any"))
    assert dict(rules.defaults) == DEFAULT_ACTIONS
    assert suggest_action([say("投诉", 1)], "high", rules) == "致电处理投诉"


@pytest.mark.parametrize(
    ("name", "content", "code", "column", "rows"),
    [
        ("r.json", b'{"rules": [{"keywords": ["a"], "action": "x",}]}', "ACTION_RULES_UNREADABLE",
         None, ()),
        ("r.json", b"", "ACTION_RULES_UNREADABLE", None, ()),
        ("r.csv", b"PK\x03\x04" + b"\x00" * 64, "ACTION_RULES_UNREADABLE", None, ()),
        ("r.json", b'{"rules": {"keywords": "a"}}', "ACTION_RULES_INVALID", "rules", ()),
        ("r.json", b'{"rule": []}', "ACTION_RULES_INVALID", "rules", ()),
        ("r.json", b'{"rules": [{"keywords": ["a"], "action": "x"}, {"keyword": "b", '
                   b'"action": "y"}]}', "ACTION_RULES_INVALID", "rules", (2,)),
        ("r.json", b'[{"keywords": "a", "action": "x", "direction": "up"}]',
         "ACTION_RULES_INVALID", "direction", (1,)),
        ("r.json", b'{"rules": [], "defaults": {"urgent": "x"}}', "ACTION_RULES_INVALID", "tier",
         (1,)),
        ("r.csv", b"keywords,action,note\ntenure,Call,hi\n", "ACTION_RULES_INVALID", "note", ()),
        ("r.csv", b"keywords,action\ntenure,\n,Call\n", "ACTION_RULES_INVALID", "action", (1,)),
        ("r.csv", b"keywords,action\ntenure,Call\ntenure, signup,Welcome\n",
         "ACTION_RULES_UNREADABLE", None, (2,)),
        ("r.csv", b'keywords,action\n"tenure,Call\n', "ACTION_RULES_UNREADABLE", None, (1,)),
    ],
)
def test_bad_rule_files(tmp_path, name, content, code, column, rows):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ChurnDataError) as err:
        load_action_rules(path)
    match = [p for p in err.value.problems if p.code == code and p.column == column]
    assert match, err.value.problems
    assert match[0].rows == rows
    assert match[0].message


def test_rules_from_uploaded_bytes():
    data = rules_to_json(default_rules()).encode("utf-8")
    assert load_action_rules(data, name="mine.json") == default_rules()
    assert load_action_rules(data) == default_rules()         # JSON told by its first character
    csv_rules = load_action_rules(b"keywords,action\ntenure,Call\n", name="r.csv")
    assert csv_rules.rules == (ActionRule(("tenure",), "Call"),)
    with pytest.raises(ChurnDataError) as err:
        load_action_rules(b"x" * (2 << 20), name="big.csv")
    assert err.value.problems[0].code == "ACTION_RULES_UNREADABLE"


def test_missing_rules_file(tmp_path):
    with pytest.raises(ChurnDataError) as err:
        load_action_rules(tmp_path / "absent.json")
    assert err.value.problems[0].code == "ACTION_RULES_UNREADABLE"

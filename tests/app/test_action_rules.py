"""The action-rules editor widget and the action mix, through AppTest.from_function."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from churn_core.actions import default_rules
from tests.app.conftest import TIMEOUT, assert_clean
from ui.state import StateKeys

K = StateKeys
RULES = f"{K.W_ACTION_RULES}_rules"
DEFAULTS = f"{K.W_ACTION_RULES}_defaults"


def _widget_app() -> None:
    import streamlit as st

    from churn_core.actions import suggest_actions
    from ui.action_rules import edit_action_rules, show_action_mix

    rules = edit_action_rules()
    reasons = {"reason_1": ["Tenure is 1, below the typical 9 (raises risk)",
                            "Complain: yes (raises risk)", "", "Tenure is 1 (lowers risk)"]}
    actions = suggest_actions(reasons, ["high", "high", "medium", "high"], rules)
    st.session_state["test_actions"] = list(actions)
    show_action_mix(actions, key="mix")


def _app() -> AppTest:
    return AppTest.from_function(_widget_app, default_timeout=TIMEOUT)


def _edits(edited=None, added=None, deleted=None) -> dict:
    return {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}


def test_built_in_rules_shown_and_used():
    at = _app().run()
    assert_clean(at)
    editor = at.data_editor(key=RULES)
    assert editor.editing_mode == "dynamic"
    assert len(editor.value) == len(default_rules().rules)
    assert at.session_state[K.ACTION_RULES] == default_rules()
    assert at.session_state["test_actions"] == [
        "Onboarding follow-up for a new customer", "Call to resolve the open complaint",
        "Re-engagement e-mail with personalised picks", "Personal call from the retention team"]
    mix = at.dataframe[-1].value
    assert mix["customers"].sum() == 4
    assert not at.error


def test_edits_change_the_rules_in_force():
    at = _app()
    at.session_state[RULES] = _edits(
        edited={0: {"action": "Apologise and fix it"}}, deleted=[3],
        added=[{"keywords": "payment, cod", "direction": "any", "action": "Prepaid offer"}])
    at.session_state[DEFAULTS] = _edits(edited={0: {"action": "Call today"}})
    at.run()
    assert_clean(at)
    rules = at.session_state[K.ACTION_RULES]
    assert rules.rules[0].action == "Apologise and fix it"
    assert "Onboarding follow-up for a new customer" not in [r.action for r in rules.rules]
    assert rules.rules[-1].keywords == ("payment", "cod")
    assert at.session_state["test_actions"] == [
        "Call today", "Apologise and fix it", "Re-engagement e-mail with personalised picks",
        "Call today"]


def test_mistakes_are_shown_and_last_valid_rules_stay():
    at = _app()
    at.session_state[K.ACTION_RULES] = default_rules()
    at.session_state[RULES] = _edits(edited={1: {"keywords": "!!"}, 2: {"action": ""}})
    at.run()
    assert_clean(at)
    assert at.error and "mistakes" in at.error[0].value
    problems = at.dataframe[0].value
    assert set(problems["code"]) == {"ACTION_RULES_INVALID"}
    assert {"keywords", "action"} <= set(problems["column"])
    assert at.session_state[K.ACTION_RULES] == default_rules()
    assert at.session_state["test_actions"][1] == "Call to resolve the open complaint"


def test_reset_returns_to_built_in_rules():
    at = _app()
    at.session_state[RULES] = _edits(deleted=[0, 1, 2, 3, 4, 5, 6])
    at.run()
    assert at.session_state[K.ACTION_RULES].rules == ()
    assert at.session_state["test_actions"][0] == "Personal call from the retention team"
    at.button(key=f"{K.W_ACTION_RULES}_reset").click().run()
    assert_clean(at)
    assert at.session_state[K.ACTION_RULES] == default_rules()
    assert at.session_state["test_actions"][0] == "Onboarding follow-up for a new customer"


def test_upload_a_rules_file_and_a_bad_one():
    at = _app().run()
    good = (b'{"rules": [{"keywords": ["tenure"], "direction": "below", '
            b'"action": "Welcome call"}], "defaults": {"high": "Call today"}}')
    at.file_uploader(key=f"{K.W_ACTION_RULES}_upload").upload(
        "rules.json", good, "application/json").run()
    assert_clean(at)
    assert [r.action for r in at.session_state[K.ACTION_RULES].rules] == ["Welcome call"]
    assert len(at.data_editor(key=RULES).value) == 1     # the editor restarted from the file
    assert at.session_state["test_actions"][:2] == ["Welcome call", "Call today"]
    at.file_uploader(key=f"{K.W_ACTION_RULES}_upload").upload(
        "bad.csv", b"keywords,action\ntenure,\n", "text/csv").run()
    assert_clean(at)
    assert at.error and "uploaded rules file" in at.error[0].value
    assert at.session_state[K.ACTION_RULES_PROBLEMS][0].code == "ACTION_RULES_INVALID"
    assert [r.action for r in at.session_state[K.ACTION_RULES].rules] == ["Welcome call"]

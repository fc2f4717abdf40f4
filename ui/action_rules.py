"""The reason-to-action rules as an editable table, and the mix of actions before export.

The rules in force live under ``StateKeys.ACTION_RULES`` (a
:class:`churn_core.actions.ActionRules`); the editors start from
``StateKeys.ACTION_RULES_BASE``, which only changes on a reset, so that the
editors keep their cell edits across reruns. A table with mistakes is shown with
its problems and the last valid rules stay in force.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from churn_core.pipeline import (
    DIRECTIONS,
    ActionRules,
    ChurnDataError,
    action_mix,
    default_rules,
    defaults_to_frame,
    load_action_rules,
    rules_from_frame,
    rules_to_frame,
    rules_to_json,
)
from ui.state import StateKeys, get, put
from ui.widgets import show_problems

K = StateKeys


def current_rules() -> ActionRules:
    """The rules in force: the last valid edit, else the built-in rules."""
    return get(K.ACTION_RULES) or default_rules()


def _install(rules: ActionRules | None, key: str) -> None:
    """Make ``rules`` (None = built-in) the rules in force and restart the editors from them."""
    put(K.ACTION_RULES, rules)
    put(K.ACTION_RULES_BASE, rules)
    put(K.ACTION_RULES_PROBLEMS, None)
    for part in ("rules", "defaults"):
        st.session_state.pop(f"{key}_{part}", None)


def _on_upload(key: str) -> None:
    """Read a new rules upload (a callback, so it runs before the editors are drawn)."""
    upload = st.session_state.get(f"{key}_upload")
    if upload is None:
        return
    try:
        loaded = load_action_rules(upload.getvalue(), name=upload.name)
    except ChurnDataError as exc:
        put(K.ACTION_RULES_PROBLEMS, list(exc.problems))
    else:
        _install(loaded, key)


def edit_action_rules(key: str = K.W_ACTION_RULES) -> ActionRules:
    """Show the rules and tier defaults as editable tables; return the rules in force.

    Parameters
    ----------
    key : str
        Widget-key prefix: the editors are ``{key}_rules`` and ``{key}_defaults``, the
        file uploader ``{key}_upload``.

    Returns
    -------
    ActionRules
        The edited rules when every cell is valid (also stored under
        ``StateKeys.ACTION_RULES``), else the last valid rules, with the
        problems shown above the tables.
    """
    base = get(K.ACTION_RULES_BASE) or current_rules()
    put(K.ACTION_RULES_BASE, base)
    st.caption("Rules are checked top to bottom; the first whose keywords appear in the "
               "feature words of one of a customer's risk-raising reasons gives the action. "
               "Direction: above / below the typical value (or yes / no), missing, or any. "
               "Customers no rule matches get their tier's default; low risk always does. "
               "The segment name is never used.")
    show_problems(get(K.ACTION_RULES_PROBLEMS), title="The uploaded rules file cannot be used; "
                  "the rules below stay in force", key=f"{key}_file_problems")
    problems_box = st.container()  # above the tables, filled once the edits are checked
    rules_frame = st.data_editor(
        rules_to_frame(base), num_rows="dynamic", hide_index=True, width="stretch",
        key=f"{key}_rules",
        column_config={
            "keywords": st.column_config.TextColumn(
                "keywords", help="words from feature names, separated by commas", width="medium"),
            "direction": st.column_config.SelectboxColumn(
                "direction", options=list(DIRECTIONS), default="any", width="small"),
            "action": st.column_config.TextColumn("action", width="large"),
        })
    defaults_frame = st.data_editor(
        defaults_to_frame(base), num_rows="fixed", hide_index=True, width="stretch",
        key=f"{key}_defaults", disabled=["tier"],
        column_config={"tier": st.column_config.TextColumn("tier", width="small"),
                       "action": st.column_config.TextColumn("default action", width="large")})
    try:
        rules = rules_from_frame(rules_frame, defaults=defaults_frame,
                                 quiet_tiers=base.quiet_tiers)
    except ChurnDataError as exc:
        with problems_box:
            show_problems(exc.problems, title="The action rules have mistakes; the last valid "
                          "rules stay in force", key=f"{key}_problems")
        rules = current_rules()
    else:
        put(K.ACTION_RULES, rules)
    c1, c2 = st.columns(2)
    c1.button("Back to the built-in rules", on_click=_install, args=(None, key),
              icon=":material/restart_alt:", key=f"{key}_reset")
    c2.download_button("Download these rules (.json)", data=rules_to_json(rules),
                       file_name="action_rules.json", mime="application/json",
                       on_click="ignore", icon=":material/download:", key=f"{key}_download",
                       help="use them on the command line: score ... --actions FILE")
    st.file_uploader("Load rules from a file (.json or .csv)", type=["json", "csv"],
                     key=f"{key}_upload", on_change=_on_upload, args=(key,),
                     help="the same files as score ... --actions FILE")
    return rules


def show_action_mix(actions: Sequence[str] | np.ndarray | pd.Series, *,
                    key: str | None = None) -> pd.DataFrame:
    """Show how many customers get each suggested action; return that table.

    Parameters
    ----------
    actions : sequence of str
        The ``suggested_action`` column of the list about to be exported.
    key : str, optional
        Element key of the table.
    """
    mix = action_mix(actions)
    if mix.empty:
        st.caption("No customers on the list, so no actions to suggest.")
        return mix
    st.dataframe(mix, hide_index=True, width="stretch", key=key, column_config={
        "action": st.column_config.TextColumn("suggested action", width="large"),
        "customers": st.column_config.NumberColumn("customers", format="localized"),
        "share": st.column_config.ProgressColumn("share", min_value=0.0, max_value=1.0,
                                                 format="percent")})
    st.caption(f"Mix of actions for the {int(mix['customers'].sum()):,} customers on the list.")
    return mix

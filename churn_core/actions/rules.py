"""Reason-to-action rules and how they pick one action per customer.

See :mod:`churn_core.actions` for the policy. Everything here is pure: rules are
frozen dataclasses, matching works on the wording of :mod:`churn_core.explain`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_core.names import normalize_name

#: Which reasons a rule applies to: ``any`` stated value; ``above`` / ``below`` not when
#: the reason says the value is on the other side of the typical one (``yes`` counts as
#: above, ``no`` as below); ``missing`` only reasons whose value is missing.
DIRECTIONS = ("any", "above", "below", "missing")
TIERS = ("high", "medium", "low")
LOWERS_RISK = ("lowers risk", "lower risk", "reduces risk", "降低")
_EFFECT = re.compile(r"\s*\((?:raises|lowers) risk\)\s*$")
# The wordings of explain._phrase, most specific first; numbers never hold spaces.
_SIDED = re.compile(r"^(?P<label>.+) is \S+, (?P<side>above|below) the typical \S+$")
_BINARY = re.compile(r"^(?P<label>.+): (?P<side>yes|no)$")
_MISSING = re.compile(r"^(?P<label>.+) is missing$")
# explain.missing_text, for features whose missingness goes with churn
_NO_RECORD = re.compile(r"^No (?P<label>.+?) (?:on record|in the last \d+ \w+)$")
_DATED = re.compile(r"^(?P<label>.+) was \S+ days before the snapshot$")
_ONE_WORD_VALUE = re.compile(r"^(?P<label>.+) is \S+$")
_ANY_VALUE = re.compile(r"^(?P<label>.+?) is .+$")


@dataclass(frozen=True)
class ActionRule:
    """One reason-to-action rule.

    Parameters
    ----------
    keywords : tuple of str
        Words looked for in the feature part of a reason (compared after
        :func:`~churn_core.names.normalize_name`, so case, spaces and punctuation do not matter).
    action : str
        The suggested action.
    direction : {"any", "above", "below", "missing"}
        See :data:`DIRECTIONS`; e.g. an onboarding call only when tenure is *below*
        the typical value.
    """

    keywords: tuple[str, ...]
    action: str
    direction: str = "any"

    def __post_init__(self) -> None:
        words = (self.keywords,) if isinstance(self.keywords, str) else tuple(self.keywords)
        object.__setattr__(self, "keywords", tuple(str(k) for k in words))
        # compacted once: a million customers' reasons are matched against them
        object.__setattr__(self, "_keys", tuple(filter(None, map(normalize_name, self.keywords))))
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")

    def matches(self, label: str, side: str | None) -> bool:
        """Whether a risk-raising reason about feature words ``label`` (compacted) on
        ``side`` ("above", "below", "missing" or None when not stated) calls for this rule."""
        if (side == "missing") != (self.direction == "missing"):
            return False
        if self.direction in ("above", "below") and side not in (None, self.direction):
            return False
        return any(k in label for k in self._keys)


@dataclass(frozen=True)
class ActionRules:
    """Ordered rules plus the default action of each risk tier.

    Parameters
    ----------
    rules : tuple of ActionRule
        Checked top to bottom; the first match wins.
    defaults : mapping of tier to action
        For customers no rule matches (stored as sorted ``(tier, action)`` pairs).
    quiet_tiers : tuple of str
        Tiers that always get their default action ("low": keep in regular
        communications) whatever their reasons.
    """

    rules: tuple[ActionRule, ...]
    defaults: tuple[tuple[str, str], ...]
    quiet_tiers: tuple[str, ...] = ("low",)

    def __post_init__(self) -> None:
        pairs = self.defaults.items() if isinstance(self.defaults, Mapping) else self.defaults
        object.__setattr__(self, "defaults", tuple(sorted((str(t), str(a)) for t, a in pairs)))
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "quiet_tiers", tuple(str(t) for t in self.quiet_tiers))

    def default_for(self, tier: str) -> str:
        """The default action of ``tier`` (an unknown tier gets the "high" default)."""
        table = dict(self.defaults)
        return table.get(str(tier).lower(), table.get("high", ""))


DEFAULT_ACTIONS = {
    "high": "Personal call from the retention team",
    "medium": "Re-engagement e-mail with personalised picks",
    "low": "No action: keep in regular communications",
}


def default_rules() -> ActionRules:
    """The built-in rules: complaint, recency, cashback, tenure, distance, satisfaction, orders.

    Directions keep an action to the side its words presume: an onboarding call
    only when tenure is not above the typical value, a service-recovery call only
    when satisfaction is not above it, and so on.
    """
    rules = (
        ActionRule(("complain", "complaint", "投诉"), "Call to resolve the open complaint",
                   "above"),
        ActionRule(("daysince", "dayssince", "lastorder", "recency", "inactive", "最近", "未下单"),
                   "Win-back offer: time-limited discount on next order", "above"),
        ActionRule(("cashback", "coupon", "discount", "返现", "优惠"),
                   "Targeted coupon or higher cashback", "below"),
        ActionRule(("tenure", "newcustomer", "signup", "注册", "新客"),
                   "Onboarding follow-up for a new customer", "below"),
        ActionRule(("distance", "warehouse", "delivery", "距离", "配送"),
                   "Offer free or faster delivery", "above"),
        ActionRule(("satisfaction", "rating", "满意", "评分"), "Service recovery call", "below"),
        ActionRule(("ordercount", "frequency", "numberoforders", "orders", "订单"),
                   "Re-engagement e-mail with personalised picks", "below"),
    )
    return ActionRules(rules=rules, defaults=DEFAULT_ACTIONS)


# -- reading a reason ------------------------------------------------------------------------
def parse_reason(text: object) -> tuple[str, str | None] | None:
    """Split a reason into its compacted feature words and the side of its value.

    Returns
    -------
    (label, side) or None
        ``side`` is "above", "below", "missing" or None (not stated: a category, a
        date, a value at the typical one, or a custom label). None when the text
        is blank or the reason lowers the risk.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    low = text.lower()
    if any(word in low for word in LOWERS_RISK):
        return None
    body = _EFFECT.sub("", text.strip())
    for pattern in (_SIDED, _BINARY):
        m = pattern.match(body)
        if m:
            side = m["side"]
            return normalize_name(m["label"]), {"yes": "above", "no": "below"}.get(side, side)
    m = _MISSING.match(body) or _NO_RECORD.match(body)
    if m:
        return normalize_name(m["label"]), "missing"
    for pattern in (_DATED, _ONE_WORD_VALUE, _ANY_VALUE):
        m = pattern.match(body)
        if m:
            return normalize_name(m["label"]), None
    return normalize_name(body), None


def _rule_index(text: object, rules: Sequence[ActionRule]) -> int:
    """Index of the first rule ``text`` matches; ``len(rules)`` when none does."""
    parsed = parse_reason(text)
    if parsed is not None:
        for i, rule in enumerate(rules):
            if rule.matches(*parsed):
                return i
    return len(rules)


def suggest_action(reasons: Iterable[object], tier: str,
                   rules: ActionRules | None = None) -> str:
    """One customer's suggested action (the reference for :func:`suggest_actions`).

    Parameters
    ----------
    reasons : iterable of str
        The customer's reasons (any order; blanks and risk-lowering ones are skipped).
    tier : str
        Risk tier; quiet tiers ("low") get their default action.
    rules : ActionRules, optional
        Defaults to :func:`default_rules`.

    Returns
    -------
    str
        The action of the first rule one of the reasons matches, else the tier's default.
    """
    rules = rules or default_rules()
    tier = str(tier).lower()
    if tier in rules.quiet_tiers:
        return rules.default_for(tier)
    best = min((_rule_index(r, rules.rules) for r in reasons), default=len(rules.rules))
    return rules.rules[best].action if best < len(rules.rules) else rules.default_for(tier)


def _reason_columns(reasons: pd.DataFrame | Mapping[str, Sequence[object]]) -> list[str]:
    names = [str(c) for c in reasons if re.fullmatch(r"reason_\d+", str(c))]
    return sorted(names, key=lambda c: int(c.split("_")[1]))


def suggest_actions(reasons: pd.DataFrame | Mapping[str, Sequence[object]],
                    tiers: Sequence[str] | np.ndarray,
                    rules: ActionRules | None = None) -> np.ndarray:
    """Suggested action per customer: :func:`suggest_action` for many rows at once.

    Reason texts repeat a lot (values are rounded), so each distinct text is
    parsed and matched once; a million customers take about a second.

    Parameters
    ----------
    reasons : DataFrame or mapping with ``reason_1``, ``reason_2``, ... columns
        One row per customer; other columns are ignored.
    tiers : sequence of str
        Risk tier per customer.
    rules : ActionRules, optional
        Defaults to :func:`default_rules`.

    Returns
    -------
    ndarray of str (object)

    Raises
    ------
    ValueError
        If a reason column and ``tiers`` differ in length.
    """
    rules = rules or default_rules()
    # factorize on object arrays: a Series would first convert a million texts to strings
    tier_codes, tier_values = pd.factorize(np.asarray(tiers, dtype=object))
    n = tier_codes.size
    none = len(rules.rules)
    best = np.full(n, none, dtype=np.int64)
    for col in _reason_columns(reasons):
        values = np.asarray(reasons[col], dtype=object)
        if values.size != n:
            raise ValueError(f"{col} has {values.size} rows, tiers {n}")
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        per_text = np.array([_rule_index(u, rules.rules) for u in uniques] + [none],
                            dtype=np.int64)
        np.minimum(best, per_text[codes], out=best)
    actions = np.array([r.action for r in rules.rules] + [""], dtype=object)[best]
    # One entry per distinct tier (the last for a missing tier, code -1), as suggest_action.
    names = [str(t).lower() for t in tier_values] + ["nan"]
    quiet = np.array([t in rules.quiet_tiers for t in names])[tier_codes]
    defaults = np.array([rules.default_for(t) for t in names], dtype=object)
    fallback = (best == none) | quiet
    actions[fallback] = defaults[tier_codes[fallback]]
    return actions


def action_mix(actions: Sequence[str] | np.ndarray | pd.Series) -> pd.DataFrame:
    """How many customers get each action, most common first.

    Returns
    -------
    DataFrame
        ``action``, ``customers`` (int) and ``share`` (0..1); empty for no customers.
    """
    counts = pd.Series(np.asarray(actions, dtype=object)).fillna("").astype(str).value_counts()
    counts = counts.rename_axis("action").reset_index(name="customers")
    counts = counts.sort_values(["customers", "action"], ascending=[False, True],
                                kind="stable", ignore_index=True)
    total = int(counts["customers"].sum())
    counts["share"] = counts["customers"] / total if total else 0.0
    return counts.astype({"customers": "int64", "share": "float64"})



"""Suggested actions from each customer's own risk-raising reasons, by editable rules.

A rule says: when one of a customer's reasons is about a feature whose words
contain one of these keywords (and, optionally, the reason puts the value on
this side of the typical one), suggest this action. Rules are checked top to
bottom; the first rule that any of the customer's reasons matches gives the
action. A customer no rule matches gets the default action of their risk tier.

What is matched is the *feature* part of a reason as worded by
:mod:`churn_core.explain` ("Day since last order is 9, above the typical 3
(raises risk)" -> "Day since last order", side "above"), never the value, so a
payment mode of "Cash on Delivery" does not trigger a delivery rule. Reasons
that lower the risk never drive an action, and neither does a value that is
missing ("Complain is missing" is no evidence of a complaint) unless a rule asks
for missing values explicitly. The segment name is never used.

Rules come from :func:`default_rules`, from a JSON or CSV file
(:func:`load_action_rules`) or from an editor table (:func:`rules_from_frame`).
"""

from churn_core.actions.files import (
    defaults_to_frame,
    load_action_rules,
    rules_from_frame,
    rules_to_frame,
    rules_to_json,
)
from churn_core.actions.rules import (
    DEFAULT_ACTIONS,
    DIRECTIONS,
    TIERS,
    ActionRule,
    ActionRules,
    action_mix,
    default_rules,
    parse_reason,
    suggest_action,
    suggest_actions,
)

__all__ = [
    "DEFAULT_ACTIONS", "DIRECTIONS", "TIERS", "ActionRule", "ActionRules", "action_mix",
    "default_rules", "defaults_to_frame", "load_action_rules", "parse_reason", "rules_from_frame",
    "rules_to_frame", "rules_to_json", "suggest_action", "suggest_actions",
]

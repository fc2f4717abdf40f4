"""The vectorised action rules give exactly what the one-customer rules give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_core.export import suggest_action, suggest_actions

TEXTS = [
    "Complain: yes (raises risk)",
    "Day since last order is 9, above the typical 3 (raises risk)",
    "Cashback amount is 120, below the typical 150 (raises risk)",
    "Tenure is 1 (lowers risk)",
    "",
    "Preferred payment mode is COD (raises risk)",
    "Satisfaction score is 1, below the typical 3 (raises risk)",
]


def test_vectorised_actions_match_row_by_row():
    rng = np.random.default_rng(0)
    n = 3000
    reasons = pd.DataFrame({f"reason_{i}": rng.choice(TEXTS, n) for i in (1, 2, 3)})
    segments = rng.choice(["High DaySinceLastOrder, low OrderCount", "Low tenure", "Other"], n)
    tiers = rng.choice(["high", "medium", "low"], n)
    fast = suggest_actions(reasons, segments, tiers)
    slow = [suggest_action(list(r), s, t)
            for r, s, t in zip(reasons.itertuples(index=False), segments, tiers, strict=True)]
    assert list(fast) == slow
    assert (fast[tiers == "low"] == "No action: keep in regular communications").all()

"""Money you can trust: the profit of a retention campaign, its uncertainty, limits and EMP.

Typical use (out-of-fold scores for the labelled customers)::

    from churn_core.money import Campaign, profit_band, sensitivity_table, emp_churn

    campaign = Campaign(offer_cost=20, success_rate=0.3, contact_cost=2,
                        capacity=500, budget=8000)
    band = profit_band(y, oof_scores, value, campaign, ranking="value_at_risk")
    band.verdict                      # "No profit is reliable: ..." when band.best_profit_low <= 0
    band.curve.best_constrained       # contacted, share, profit, marginal (next contact), ...
    tornado = sensitivity_table(y, oof_scores, value, campaign)
    emp_churn(y, oof_scores, clv=200, incentive_cost=10, contact_cost=1).emp

Figures: :mod:`churn_core.money.charts` (``profit_band_figure``, ``tornado_figure``).
"""

from churn_core.money.bootstrap import ProfitBand, profit_band
from churn_core.money.campaign import (
    RANKINGS,
    Campaign,
    contacts_paid,
    money_cumsum,
    rank_customers,
    to_cents,
)
from churn_core.money.curve import Optimum, ProfitCurve, profit_curve
from churn_core.money.emp import EmpResult, emp_churn
from churn_core.money.sensitivity import sensitivity_table

__all__ = ["RANKINGS", "Campaign", "EmpResult", "Optimum", "ProfitBand", "ProfitCurve",
           "contacts_paid", "emp_churn", "money_cumsum", "profit_band", "profit_curve",
           "rank_customers", "sensitivity_table", "to_cents"]

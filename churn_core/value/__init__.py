"""Customer value from an order log: buy-till-you-die models and value at risk.

Typical use::

    from churn_core.value import (rfm_summary, fit_value_models, customer_value_table,
                                  value_at_risk)

    summary = rfm_summary(orders, customer="customer_id", timestamp="date", amount="amount",
                          calibration_end="1997-09-30", time_unit="week")
    models = fit_value_models(summary, time_unit="week")      # BG/NBD + Gamma-Gamma
    table = customer_value_table(models, summary, horizon=13)  # p_alive, expected_value, ...
    at_risk = value_at_risk(churn_probability, table["expected_value"])

From an event log staged by :func:`churn_core.events.prepare_log`:
:func:`churn_core.value.events.summary_from_log`.
"""

from churn_core.value.bgnbd import (
    BgNbdParams,
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    probability_alive,
)
from churn_core.value.clv import (
    BUILD_VALUE_COLUMN,
    VALUE_COLUMNS,
    ValueModels,
    alive_disagreement,
    customer_value_table,
    fit_value_models,
    value_at_risk,
    value_at_risk_covered,
    value_column,
)
from churn_core.value.gamma_gamma import (
    GammaGammaParams,
    expected_average_spend,
    fit_gamma_gamma,
)
from churn_core.value.rfm import TIME_UNITS, rfm_from_days, rfm_summary

__all__ = ["BUILD_VALUE_COLUMN", "TIME_UNITS", "VALUE_COLUMNS", "BgNbdParams",
           "GammaGammaParams", "ValueModels",
           "alive_disagreement", "customer_value_table", "expected_average_spend",
           "expected_purchases", "expected_purchases_new", "fit_bgnbd", "fit_gamma_gamma",
           "fit_value_models", "probability_alive", "rfm_from_days", "rfm_summary",
           "value_at_risk", "value_at_risk_covered", "value_column"]

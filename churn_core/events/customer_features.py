"""Point-in-time customer features at one cutoff, as DuckDB SQL over the staged log.

Every aggregate reads ``daily`` rows with ``day <= cutoff`` only (distinct
products and categories are sums of the items first bought on those days);
the label reads orders in ``(cutoff + lead, cutoff + lead + window]`` only.
Features whose role is not mapped (no amount, no product, ...) are simply not
produced.
"""

from __future__ import annotations

from datetime import date

from churn_core.events.mapping import quote
from churn_core.events.staging import PreparedLog
from churn_core.events.types import ChurnDefinition
from churn_core.names import snake_name

WINDOWS = (30, 90, 180, 365)
RECENT_DAYS = 30          # sudden drop: the last 30 days ...
BASELINE_DAYS = 365       # ... against the customer's own rate over the year before
DROP_SHARE = 0.25         # flagged when recent activity <= 25 % of the baseline


def event_type_columns(log: PreparedLog) -> dict[str, str]:
    """Return ``{feature name: event type}`` for the counted event types."""
    out: dict[str, str] = {}
    for i, t in enumerate(log.event_types):
        name = f"events_{snake_name(t) or f'type{i}'}_90d"
        out[name if name not in out else f"events_type{i}_90d"] = t
    return out


def static_columns(log: PreparedLog) -> dict[str, str]:
    """Return ``{feature name: staged column}`` for static attributes (user's names)."""
    taken = set(feature_labels(log, include_static=False)) | {"customer_id", "cutoff", "churned"}
    return {(c if c not in taken else f"attr_{c}"): f"s{i}"
            for i, c in enumerate(log.mapping.static)}


def feature_labels(log: PreparedLog, *, include_static: bool = True) -> dict[str, str]:
    """Plain-words template per feature, formatted with ``template.format(value=v)``."""
    labels = {
        "days_since_last_order": "{value:.0f} days since the last order",
        "tenure_days": "customer for {value:.0f} days (since the first event)",
    }
    for w in WINDOWS:
        labels[f"orders_{w}d"] = f"{{value:.0f}} orders in the last {w} days"
    if log.has_money:
        for w in WINDOWS:
            labels[f"revenue_{w}d"] = f"{{value:,.2f}} spent in the last {w} days"
    labels |= {
        "mean_days_between_orders": "orders every {value:.0f} days on average",
        "std_days_between_orders": "days between orders vary by {value:.0f}",
        "overdue_ratio": "{value:.1f} times their usual gap since the last order",
        "order_trend_90d": "order trend {value:+.2f} (last 90 days vs the 90 before; "
                           "-1 = stopped, +1 = new)",
    }
    if log.has_returns:
        labels["return_rate"] = "{value:.0%} of orders returned or cancelled"
    if log.mapping.product:
        labels["distinct_products"] = "{value:.0f} different products bought"
    if log.mapping.category:
        labels["distinct_categories"] = "{value:.0f} different categories bought"
    for name, t in event_type_columns(log).items():
        labels[name] = f"{{value:.0f}} '{t}' events in the last 90 days"
    if log.mapping.rating:
        labels["avg_rating"] = "average rating {value:.1f}"
    labels["sudden_drop_score"] = "activity in the last 30 days {value:.0%} below their own usual"
    labels["sudden_drop"] = "sudden drop in activity (1 = yes): {value:.0f}"
    if include_static:
        for name, col in static_columns(log).items():
            labels[name] = f"{log.mapping.static[int(col[1:])]} is {{value}}"
    return labels


def _sum_where(value: str, condition: str) -> str:
    # the same as sum(value) FILTER (condition) (NULL when no row matches), but DuckDB
    # runs it faster: 1.67 -> 1.28 s for one cutoff's aggregates at 100M events
    return f"sum(CASE WHEN {condition} THEN {value} END)"


def _aggregates(log: PreparedLog, c: str) -> list[str]:
    """Per-customer aggregates over ``daily`` rows up to the cutoff ``c`` (a DATE literal)."""
    activity = "n_events" if log.mapping.event_type else "n_orders"
    aggs = ["max(day) FILTER (n_orders > 0) AS last_order", "min(day) AS first_day",
            "avg(gap) AS gap_mean", "stddev_samp(gap) AS gap_std",
            "sum(n_orders) AS orders_all", "sum(n_returns) AS returns_all",
            f"{_sum_where('n_orders', f'day > {c} - 180 AND day <= {c} - 90')} "
            "AS orders_prev_90d",
            f"{_sum_where(activity, f'day > {c} - {RECENT_DAYS}')} AS act_recent",
            f"{_sum_where(activity, f'day > {c} - {BASELINE_DAYS} AND day <= {c} - {RECENT_DAYS}')}"
            " AS act_base",
            "sum(rating_sum) / nullif(sum(rating_n), 0) AS avg_rating"]
    for w in WINDOWS:
        aggs.append(f"{_sum_where('n_orders', f'day > {c} - {w}')} AS orders_{w}d")
        if log.has_money:
            aggs.append(f"{_sum_where('revenue', f'day > {c} - {w}')} AS revenue_{w}d")
    for i, _ in enumerate(log.event_types):
        aggs.append(f"{_sum_where(f'et{i}', f'day > {c} - 90')} AS et{i}_90d")
    for col in static_columns(log).values():
        aggs.append(f"arg_max({col}, day) FILTER ({col} IS NOT NULL) AS {col}")
    # items first bought by the cutoff: the distinct products/categories bought by then
    if log.mapping.product:
        aggs.append("sum(new_products) AS n_products")
    if log.mapping.category:
        aggs.append("sum(new_categories) AS n_categories")
    return aggs


def _selects(log: PreparedLog, c: str) -> list[str]:
    """Final feature expressions over the aggregates (all numeric features as DOUBLE)."""
    def num(expr: str, name: str) -> str:
        return f"CAST({expr} AS DOUBLE) AS {quote(name)}"

    span = f"least({BASELINE_DAYS - RECENT_DAYS}, ({c} - {RECENT_DAYS}) - first_day)"
    base = f"(CASE WHEN {span} >= 60 THEN act_base * {RECENT_DAYS} / {span} END)"
    recent = "coalesce(act_recent, 0)"
    out = [num(f"{c} - last_order", "days_since_last_order"),
           num(f"{c} - first_day", "tenure_days")]
    out += [num(f"coalesce(orders_{w}d, 0)", f"orders_{w}d") for w in WINDOWS]
    if log.has_money:
        out += [num(f"coalesce(revenue_{w}d, 0)", f"revenue_{w}d") for w in WINDOWS]
    out += [num("gap_mean", "mean_days_between_orders"),
            num("gap_std", "std_days_between_orders"),
            num(f"({c} - last_order) / nullif(gap_mean, 0)", "overdue_ratio"),
            num("(coalesce(orders_90d, 0) - coalesce(orders_prev_90d, 0)) / "
                "nullif(coalesce(orders_90d, 0) + coalesce(orders_prev_90d, 0), 0)",
                "order_trend_90d")]
    if log.has_returns:
        out.append(num("returns_all / nullif(orders_all + returns_all, 0)", "return_rate"))
    if log.mapping.product:
        out.append(num("coalesce(n_products, 0)", "distinct_products"))
    if log.mapping.category:
        out.append(num("coalesce(n_categories, 0)", "distinct_categories"))
    for i, name in enumerate(event_type_columns(log)):
        out.append(num(f"coalesce(et{i}_90d, 0)", name))
    if log.mapping.rating:
        out.append(num("avg_rating", "avg_rating"))
    out += [num(f"CASE WHEN {base} > 0 THEN greatest(0, 1 - {recent} / {base}) END",
                "sudden_drop_score"),
            num(f"CASE WHEN {base} >= 1 AND {recent} <= {DROP_SHARE} * {base} THEN 1 ELSE 0 END",
                "sudden_drop")]
    out += [f"{col} AS {quote(name)}" for name, col in static_columns(log).items()]
    return out


def features_sql(log: PreparedLog, cutoff: date, definition: ChurnDefinition, *,
                 with_label: bool) -> str:
    """SQL returning one row per customer active at ``cutoff``.

    Columns: ``customer_id`` (text), ``cutoff`` (DATE), the features of
    :func:`feature_labels`, and ``churned`` (0/1) when ``with_label``. Rows come
    in ``customer_id`` order: ``cust`` numbers the ids in text order (an integer
    sort in DuckDB instead of a text sort in pandas: -1.5 s at 100M events).
    """
    c = f"DATE '{cutoff.isoformat()}'"
    label, label_join = "", ""
    if with_label:
        start, end = definition.lead_days, definition.lead_days + definition.window_days
        label = ", CASE WHEN fut.cust IS NULL THEN 1 ELSE 0 END::INTEGER AS churned"
        label_join = (f"LEFT JOIN (SELECT DISTINCT cust FROM daily WHERE n_orders > 0 "
                      f"AND day > {c} + {start} AND day <= {c} + {end}) fut USING (cust)")
    return f"""
        WITH agg AS (
            SELECT cust, {', '.join(_aggregates(log, c))}
            FROM daily WHERE day <= {c}
            GROUP BY cust
            HAVING max(day) FILTER (n_orders > 0) > {c} - {definition.active_days})
        SELECT customers.cid AS customer_id, {c} AS cutoff, {', '.join(_selects(log, c))} {label}
        FROM agg JOIN customers USING (cust) {label_join}
        ORDER BY cust"""

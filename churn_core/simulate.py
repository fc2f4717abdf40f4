"""Synthetic customer tables: the bundled sample and large tables for benchmarks.

:func:`simulate_customers` imitates the public "E-commerce customer churn"
table (one row per customer, twenty columns, a Yes/No ``Churn`` label). Churn
arises from behaviour through a logistic model, so a good model can learn it
but not perfectly:

=============================  ===========================================
driver                         effect on the log-odds of churning
=============================  ===========================================
short tenure                   -0.08 per month, +1.5 more in the first 2 months
complaint last month           +1.0, and +1.5 more when satisfaction is 1-2
days since last order          +0.1 per day, and +1.8 once past a week
orders last month              -0.25 per order
warehouse-to-home distance     +1.2 beyond 25 km (a step, not a slope)
cashback amount                +1.0 below 140 (low rewards)
satisfaction score (1-5)       +0.3 per point below 3
single                         +0.5, and +0.8 more when paying cash on delivery
cash on delivery               +0.3
unexplained                    normal noise with sd 0.5, then a Bernoulli draw
=============================  ===========================================

The intercept is solved numerically so the churn rate is about 17 %.

With ``mess=True`` the table carries the mess of real exports: about 5 %
missing values in seven numeric columns, two spellings of some categories
("CC"/"Credit Card", "COD"/"Cash on Delivery", "Phone"/"Mobile Phone") and
about 1 % exact duplicate profiles under new customer ids.

:func:`simulate_large` builds wide numeric tables of any size for benchmarks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from churn_core.outputs import write_file

logger = logging.getLogger(__name__)

SNAPSHOT_DATE = "2024-06-30"
TARGET_CHURN_RATE = 0.17
MISSING_RATE = 0.05
DUPLICATE_RATE = 0.01
MISSING_COLUMNS = (
    "Tenure",
    "WarehouseToHome",
    "HourSpendOnApp",
    "OrderAmountHikeFromlastYear",
    "CouponUsed",
    "OrderCount",
    "DaySinceLastOrder",
)
# Second spellings used when mess=True, with the share of the level written that way.
ALIASES = {
    "PreferredPaymentMode": {"Credit Card": ("CC", 0.15), "Cash on Delivery": ("COD", 0.7)},
    "PreferredLoginDevice": {"Mobile Phone": ("Phone", 0.3)},
    "PreferedOrderCat": {"Mobile Phone": ("Mobile", 0.4)},
}


def _choice(rng: np.random.Generator, levels: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(levels), dtype=object)
    p = np.array(list(levels.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _solve_intercept(logit: np.ndarray, target: float) -> float:
    """Return b so that mean(sigmoid(logit + b)) equals ``target`` (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        rate = float(np.mean(1.0 / (1.0 + np.exp(-(logit + mid)))))
        lo, hi = (mid, hi) if rate < target else (lo, mid)
    return (lo + hi) / 2


def _behaviour(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Draw the customer profile columns (clean spellings, nothing missing)."""
    tenure = np.minimum(np.round(rng.gamma(1.3, 8.0, n)), 61).astype(int)
    city = rng.choice([1, 2, 3], size=n, p=[0.65, 0.05, 0.30])
    warehouse = np.minimum(np.round(5 + rng.gamma(1.6, 6.5, n)), 127).astype(int)
    hours = np.clip(np.round(rng.normal(2.9, 0.75, n)), 0, 5).astype(int)
    devices = np.clip(np.round(rng.normal(3.7, 1.0, n)), 1, 6).astype(int)
    satisfaction = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.21, 0.10, 0.30, 0.19, 0.20])
    addresses = np.clip(np.round(rng.gamma(2.6, 1.6, n)), 1, 22).astype(int)
    complain = (rng.random(n) < 0.28).astype(int)
    hike = np.clip(np.round(11 + rng.gamma(2.0, 2.4, n)), 11, 26).astype(int)
    # Active customers order more, use more coupons and order more recently.
    activity = rng.gamma(1.6, 1.0, n) * (1 + tenure / 30)
    orders = np.clip(rng.poisson(0.2 + 1.6 * activity), 1, 16)
    coupons = np.minimum(rng.binomial(orders, 0.55), 16)
    days = np.minimum(np.round(rng.exponential(2.0 + 6.0 / (1 + activity))), 46).astype(int)
    cashback = np.clip(rng.normal(120, 25, n) + 2.2 * tenure + 6.0 * orders, 0, 325)
    frame = pd.DataFrame(
        {
            "Tenure": tenure,
            "PreferredLoginDevice": _choice(rng, {"Mobile Phone": 0.7, "Computer": 0.3}, n),
            "CityTier": city,
            "WarehouseToHome": warehouse,
            "PreferredPaymentMode": _choice(
                rng,
                {"Debit Card": 0.41, "Credit Card": 0.31, "E wallet": 0.11,
                 "UPI": 0.07, "Cash on Delivery": 0.10},
                n,
            ),
            "Gender": _choice(rng, {"Male": 0.6, "Female": 0.4}, n),
            "HourSpendOnApp": hours,
            "NumberOfDeviceRegistered": devices,
            "PreferedOrderCat": _choice(
                rng,
                {"Laptop & Accessory": 0.36, "Mobile Phone": 0.37, "Fashion": 0.15,
                 "Grocery": 0.07, "Others": 0.05},
                n,
            ),
            "SatisfactionScore": satisfaction,
            "MaritalStatus": _choice(rng, {"Married": 0.53, "Single": 0.32, "Divorced": 0.15}, n),
            "NumberOfAddress": addresses,
            "Complain": complain,
            "OrderAmountHikeFromlastYear": hike,
            "CouponUsed": coupons,
            "OrderCount": orders,
            "DaySinceLastOrder": days,
            "CashbackAmount": np.round(cashback, 2),
        }
    )
    return frame


def _churn(rng: np.random.Generator, f: pd.DataFrame) -> np.ndarray:
    """Draw the 0/1 churn label from the behaviour (see the module table)."""
    # Thresholds and interactions, as in real behaviour: a linear model cannot fit them all.
    single = f["MaritalStatus"] == "Single"
    cod = f["PreferredPaymentMode"] == "Cash on Delivery"
    logit = (
        -0.08 * f["Tenure"]
        + 1.5 * (f["Tenure"] <= 1)
        + 1.0 * f["Complain"]
        + 1.5 * f["Complain"] * (f["SatisfactionScore"] <= 2)
        + 0.1 * f["DaySinceLastOrder"]
        + 1.8 * (f["DaySinceLastOrder"] > 7)
        - 0.25 * f["OrderCount"]
        + 1.2 * (f["WarehouseToHome"] > 25)
        + 1.0 * (f["CashbackAmount"] < 140)
        + 0.3 * (3 - f["SatisfactionScore"])
        + 0.5 * single
        + 0.3 * cod
        + 0.8 * (single & cod)
    ).to_numpy(dtype=float) + rng.normal(0, 0.5, len(f))
    logit += _solve_intercept(logit, TARGET_CHURN_RATE)
    return (rng.random(len(f)) < 1.0 / (1.0 + np.exp(-logit))).astype(int)


def _make_messy(rng: np.random.Generator, f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    for column, aliases in ALIASES.items():
        values = f[column].to_numpy(dtype=object).copy()
        for level, (alias, share) in aliases.items():
            hit = (values == level) & (rng.random(len(values)) < share)
            values[hit] = alias
        f[column] = values
    for column in MISSING_COLUMNS:
        f[column] = f[column].astype("Int64").mask(rng.random(len(f)) < MISSING_RATE)
    return f


def simulate_customers(n: int = 4000, *, seed: int = 7, mess: bool = True) -> pd.DataFrame:
    """Simulate an e-commerce customer table with a behavioural churn label.

    Parameters
    ----------
    n : int, default 4000
        Number of rows, duplicates included.
    seed : int, default 7
        Seed of the random generator; the same seed gives the same table.
    mess : bool, default True
        Add missing values, second spellings of categories and duplicate
        profiles under new ids (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns ``CustomerID`` (text "C00001"...), the nineteen profile columns
        of the public E-commerce churn table, ``SignupDate`` (ISO date text)
        and ``Churn`` ("Yes"/"No"). Integer columns with gaps use the nullable
        ``Int64`` dtype.

    Raises
    ------
    ValueError
        If ``n`` is below 10.
    """
    if n < 10:
        raise ValueError(f"n must be at least 10, got {n}")
    rng = np.random.default_rng(seed)
    n_dup = int(round(n * DUPLICATE_RATE)) if mess else 0
    frame = _behaviour(rng, n - n_dup)
    frame["Churn"] = _churn(rng, frame)
    snapshot = pd.Timestamp(SNAPSHOT_DATE)
    age_days = np.round(frame["Tenure"].to_numpy() * 30.44 + rng.integers(0, 30, len(frame)))
    frame["SignupDate"] = (snapshot - pd.to_timedelta(age_days, unit="D")).strftime("%Y-%m-%d")
    if mess:
        frame = _make_messy(rng, frame)
        copies = frame.iloc[rng.choice(len(frame), size=n_dup, replace=False)]
        frame = pd.concat([frame, copies], ignore_index=True)
        frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame["Churn"] = np.where(frame["Churn"].to_numpy() == 1, "Yes", "No")
    frame.insert(0, "CustomerID", [f"C{i:05d}" for i in range(1, len(frame) + 1)])
    columns = [c for c in frame.columns if c not in ("SignupDate", "Churn")]
    return frame[[*columns, "SignupDate", "Churn"]]


def write_sample(path: str | Path, *, n: int = 4000, seed: int = 7) -> Path:
    """Write the bundled sample table (:func:`simulate_customers`, messy) as UTF-8 CSV.

    Parameters
    ----------
    path : str or Path
        Target file; parent folders are created.
    n, seed : int
        Passed to :func:`simulate_customers`.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = simulate_customers(n, seed=seed, mess=True)
    write_file(path, frame.to_csv(index=False).encode("utf-8"))  # whole or not at all
    logger.info("wrote %d simulated customers to %s", len(frame), path)
    return path


def simulate_large(n: int, *, n_features: int = 30, seed: int = 0) -> pd.DataFrame:
    """Simulate a wide table of any size for benchmarks (vectorised, seconds per million rows).

    Parameters
    ----------
    n : int
        Number of rows.
    n_features : int, default 30
        Feature columns; about one in six is categorical (at least two), the
        rest numeric (``num_00``...; ``cat_00``... as pandas ``category``).
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (text), the features with about 5 % missing values,
        and ``churn`` (int 0/1, about 15-20 % ones) driven by a few numeric
        features, one interaction and one categorical.
    """
    if n < 1 or n_features < 3:
        raise ValueError("need n >= 1 and n_features >= 3")
    rng = np.random.default_rng(seed)
    n_cat = max(2, n_features // 6)
    n_num = n_features - n_cat
    data: dict[str, object] = {"customer_id": pd.array(np.char.add("C", np.char.zfill(
        np.arange(1, n + 1).astype(str), 8)), dtype="str")}
    logit = np.zeros(n)
    weights = rng.normal(0, 1, n_num) * (np.arange(n_num) < 8)  # only 8 numeric drivers
    for j in range(n_num):
        x = rng.standard_normal(n, dtype=np.float32)
        if j % 3 == 1:  # skewed, like amounts and counts
            x = np.exp(x * 0.8, dtype=np.float32)
        logit += weights[j] * (x - x.mean()) / (x.std() + 1e-9) * 0.6
        if j == 1:
            logit += 0.5 * np.maximum(x, 0) * (data["num_00"] > 0)  # type: ignore[operator]
        data[f"num_{j:02d}"] = x
    for j in range(n_cat):
        n_levels = 3 + 4 * j
        codes = rng.integers(0, n_levels, n)
        if j == 0:
            logit += rng.normal(0, 0.6, n_levels)[codes]
        data[f"cat_{j:02d}"] = codes
    logit += rng.normal(0, 0.5, n)
    logit += _solve_intercept(logit[: min(n, 200_000)], TARGET_CHURN_RATE)
    churn = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    for j in range(n_num):
        x = data[f"num_{j:02d}"]
        x[rng.random(n, dtype=np.float32) < MISSING_RATE] = np.nan  # type: ignore[index]
    for j in range(n_cat):
        codes = data[f"cat_{j:02d}"]
        codes[rng.random(n, dtype=np.float32) < MISSING_RATE] = -1  # type: ignore[index]
        levels = [f"level_{chr(97 + i % 26)}{i // 26 or ''}" for i in range(3 + 4 * j)]
        data[f"cat_{j:02d}"] = pd.Categorical.from_codes(codes, categories=levels)
    frame = pd.DataFrame(data)
    frame["churn"] = churn
    return frame

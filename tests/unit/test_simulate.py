"""The simulator: shape, mess, churn rate, learnability and the bundled sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from churn_core.simulate import simulate_customers, simulate_large, write_sample


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return simulate_customers(4000, seed=7)


def test_columns_and_ids(customers):
    assert len(customers) == 4000
    assert customers.columns[0] == "CustomerID" and customers.columns[-1] == "Churn"
    assert customers["CustomerID"].iloc[0] == "C00001" and customers["CustomerID"].is_unique
    assert set(customers["Churn"]) == {"Yes", "No"}
    pd.to_datetime(customers["SignupDate"], format="%Y-%m-%d")
    assert customers["SatisfactionScore"].between(1, 5).all()
    assert set(customers["CityTier"]) == {1, 2, 3}


def test_churn_rate_and_mess(customers):
    rate = (customers["Churn"] == "Yes").mean()
    assert 0.10 <= rate <= 0.25
    missing = customers[["Tenure", "OrderCount", "DaySinceLastOrder"]].isna().mean()
    assert missing.between(0.03, 0.07).all()
    payment = set(customers["PreferredPaymentMode"])
    assert {"CC", "Credit Card", "COD", "Cash on Delivery"} <= payment
    assert {"Phone", "Mobile Phone"} <= set(customers["PreferredLoginDevice"])
    dups = customers.drop(columns="CustomerID").duplicated().sum()
    assert 30 <= dups <= 50


def test_clean_and_reproducible():
    clean = simulate_customers(500, seed=1, mess=False)
    assert not clean.isna().any().any()
    assert "CC" not in set(clean["PreferredPaymentMode"])
    assert simulate_customers(500, seed=1, mess=False).equals(clean)


def test_churn_is_learnable_but_not_trivial(customers):
    y = (customers["Churn"] == "Yes").astype(int)
    X = customers.drop(columns=["CustomerID", "Churn", "SignupDate"])
    X = pd.get_dummies(X, dtype=float).astype(float)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    model = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler(),
                          LogisticRegression(max_iter=1000))
    auc = roc_auc_score(y_test, model.fit(X_train, y_train).predict_proba(X_test)[:, 1])
    assert 0.82 <= auc <= 0.95


def test_drivers_point_the_right_way(customers):
    churned = customers["Churn"] == "Yes"
    assert customers.loc[churned, "DaySinceLastOrder"].mean() > customers.loc[
        ~churned, "DaySinceLastOrder"].mean()
    assert customers.loc[churned, "Complain"].mean() > customers.loc[~churned, "Complain"].mean()
    assert customers.loc[churned, "Tenure"].mean() < customers.loc[~churned, "Tenure"].mean()


def test_write_sample_and_bundled_file(tmp_path, sample_csv):
    path = write_sample(tmp_path / "x" / "c.csv", n=200)
    assert pd.read_csv(path).shape == (200, 21)
    bundled = pd.read_csv(sample_csv, encoding="utf-8")
    assert bundled.shape == (4000, 21)
    expected = simulate_customers(4000, seed=7)
    assert bundled["CustomerID"].tolist() == expected["CustomerID"].tolist()
    assert bundled["Churn"].tolist() == expected["Churn"].tolist()


def test_simulate_large():
    big = simulate_large(20_000, n_features=12, seed=3)
    assert big.shape == (20_000, 14)
    assert big["customer_id"].is_unique and big["churn"].isin([0, 1]).all()
    assert 0.10 <= big["churn"].mean() <= 0.25
    features = big.drop(columns=["customer_id", "churn"])
    assert features.isna().mean().between(0.03, 0.07).all()
    assert sum(isinstance(features[c].dtype, pd.CategoricalDtype) for c in features) == 2
    assert np.isfinite(features.select_dtypes("number").to_numpy(dtype=float)).mean() > 0.9

"""The segmentation results: frozen dataclasses, plain data (JSON round trip for the bundle).

- :class:`SegmentModel`: how rows are encoded and which centre each segment has; it is
  what the saved model bundle stores (``to_dict`` / ``from_dict``), so scoring assigns
  new customers exactly like the training rows.
- :class:`SegmentReport`: what the Segments page shows: one row per named segment
  (size, churn rate, value, risk-tier mix, top drivers, suggested action), the
  feature profile, and the segments x risk tier table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CHOICE_COLUMNS = ("k", "silhouette", "separation", "balance", "smallest_share", "eligible",
                  "score")


@dataclass(frozen=True)
class SegmentModel:
    """A fitted segmentation: encoding, centres, names and how k was chosen.

    Attributes
    ----------
    k : int
        Number of segments.
    features : tuple of str
        Columns used: numeric ones, then categorical ones.
    numeric, categorical : tuple of str
        The two kinds of ``features``.
    medians, means, scales : tuple of float
        Per numeric column: imputation value, then mean and standard deviation of the
        (log-compressed where listed in ``logged``) values on the training rows.
    levels : Mapping[str, tuple of str]
        One-hot levels per categorical column.
    centers : list of list of float
        ``k`` centres in the encoded space.
    names : tuple of str
        Unique plain-words name of each segment ("Recent, frequent, high spend").
    choice : pandas.DataFrame
        One row per k tried (:data:`CHOICE_COLUMNS`); empty when k was set by the user.
    seed : int
        Random seed used for sampling and K-Means.
    pca_mean : tuple of float
        Mean of the encoded sample (PCA centring).
    pca_components : list of list of float
        Two PCA axes in the encoded space.
    logged : tuple of str
        Numeric columns compressed with ``log1p`` before scaling (skewed counts and money).
    labels : Mapping[str, str]
        Human label per feature ("Days since the last order").
    roles : Mapping[str, str]
        Behaviour role per feature: ``recency``, ``frequency``, ``money``, ``tenure``,
        ``gap`` or ``other``; it picks the words of the names.
    """

    k: int
    features: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    medians: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    levels: Mapping[str, tuple[str, ...]]
    centers: list[list[float]]
    names: tuple[str, ...]
    choice: pd.DataFrame
    seed: int
    pca_mean: tuple[float, ...]
    pca_components: list[list[float]]
    logged: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)

    @property
    def chosen_automatically(self) -> bool:
        """True when k was chosen by the rule (False when the user set it)."""
        return len(self.choice) > 0

    @property
    def silhouette(self) -> pd.DataFrame:
        """``k, silhouette`` of each k tried (empty when k was set)."""
        return self.choice.loc[:, ["k", "silhouette"]].reset_index(drop=True)

    @property
    def encoded_names(self) -> tuple[str, ...]:
        """Names of the encoded columns: numeric names, then ``"column = level"``."""
        levels = (f"{c} = {lv}" for c in self.categorical for lv in self.levels[c])
        return self.numeric + tuple(levels)

    def label(self, feature: str) -> str:
        """Human label of a feature (its own name when none is known)."""
        return str(self.labels.get(feature, feature))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (see :meth:`from_dict`)."""
        return {
            "k": self.k, "features": list(self.features),
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "medians": list(self.medians),
            "means": list(self.means),
            "scales": list(self.scales),
            "levels": {c: list(v) for c, v in self.levels.items()},
            "centers": [list(map(float, c)) for c in self.centers],
            "names": list(self.names),
            "choice": {c: [_plain(v) for v in self.choice[c]] for c in CHOICE_COLUMNS
                       if c in self.choice.columns},
            "seed": self.seed,
            "pca_mean": list(self.pca_mean),
            "pca_components": [list(map(float, c)) for c in self.pca_components],
            "logged": list(self.logged),
            "labels": dict(self.labels),
            "roles": dict(self.roles),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SegmentModel:
        """Rebuild a model from :meth:`to_dict` output (bundles saved before the
        ``choice`` table, with a ``silhouette`` table instead, load too)."""
        choice = d.get("choice")
        if choice is None:  # an older bundle: the silhouette curve only
            choice = dict(d.get("silhouette") or {"k": [], "silhouette": []})
        return cls(
            k=int(d["k"]),
            features=tuple(d["features"]),
            numeric=tuple(d["numeric"]),
            categorical=tuple(d["categorical"]),
            medians=tuple(float(v) for v in d["medians"]),
            means=tuple(float(v) for v in d["means"]),
            scales=tuple(float(v) for v in d["scales"]),
            levels={c: tuple(v) for c, v in d["levels"].items()},
            centers=[[float(x) for x in c] for c in d["centers"]],
            names=tuple(d["names"]),
            choice=pd.DataFrame(choice).reindex(columns=list(CHOICE_COLUMNS)),
            seed=int(d["seed"]),
            pca_mean=tuple(float(v) for v in d["pca_mean"]),
            pca_components=[[float(x) for x in c] for c in d["pca_components"]],
            logged=tuple(d.get("logged", ())),
            labels=dict(d.get("labels", {})),
            roles=dict(d.get("roles", {})),
        )


def _plain(v: Any) -> Any:
    """A JSON-ready scalar (numpy numbers and booleans become Python ones)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


@dataclass(frozen=True)
class SegmentReport:
    """Everything the Segments page shows about one segmentation.

    Attributes
    ----------
    model : SegmentModel
    summary : pandas.DataFrame
        One row per segment: ``segment, name, size, share, churners, labelled,
        churn_rate, lift`` (churn rate / overall rate), ``value`` (mean value per
        customer; NaN without a value), ``high, medium, low`` (risk-tier shares of the
        segment's customers to act on; NaN before a model is trained), ``drivers``
        (top churn drivers in words) and ``action`` (suggested action).
    profile : pandas.DataFrame
        Long form: ``feature, label, segment, name, mean, overall, z``.
    tiers : pandas.DataFrame or None
        Segments x risk tier of the customers to act on: ``segment, name, customers,
        high, medium, low`` (counts) and ``high_share, medium_share, low_share``; None
        before a model is trained.
    points : pandas.DataFrame
        A 2-D map of a random sample of rows: ``row, x, y, segment, name``.
    value_source : str
        Where ``value`` comes from ("column 'customer_value'"), empty without a value.
    drivers_source : str
        ``"model"`` (mean contribution per segment) or ``"profile"`` (the features that
        differ most from the other customers).
    overall_rate : float
        Churn rate of every labelled row (NaN without labels).
    """

    model: SegmentModel
    summary: pd.DataFrame
    profile: pd.DataFrame
    tiers: pd.DataFrame | None
    points: pd.DataFrame
    value_source: str = ""
    drivers_source: str = "profile"
    overall_rate: float = float("nan")

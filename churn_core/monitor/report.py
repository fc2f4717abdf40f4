"""The run report: one JSON document (stored with the run) and its Markdown rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

SCORE_QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
SCORE_BINS = 20


def score_summary(scores: np.ndarray) -> dict[str, Any]:
    """Quantiles and a 20-bin histogram on [0, 1] of a run's scores (for charts across runs)."""
    s = np.asarray(scores, dtype=float)
    s = s[np.isfinite(s)]
    counts, _ = np.histogram(s, bins=SCORE_BINS, range=(0.0, 1.0))
    return {"quantiles": dict(zip([f"{q:g}" for q in SCORE_QUANTILES],
                                  np.quantile(s, SCORE_QUANTILES).tolist() if s.size else
                                  [None] * len(SCORE_QUANTILES), strict=True)),
            "histogram": counts.tolist(), "mean": float(s.mean()) if s.size else None}


def alerts_of(report: dict[str, Any], *, min_auc: float | None = None) -> list[str]:
    """Why this run needs attention (empty when nothing to report).

    Drifted features, a drifted score, and ROC-AUC (realised when outcomes are
    known, else estimated) under ``min_auc``.
    """
    out = []
    if report.get("drifted_features"):
        out.append("drift in " + ", ".join(report["drifted_features"]))
    if report.get("score_drift"):
        out.append("the score distribution drifted")
    if min_auc is not None:
        realised = (report.get("realised") or {}).get("roc_auc")
        auc, kind = (realised, "realised") if realised is not None else (
            report.get("estimated_auc"), "estimated")
        if auc is not None and auc < min_auc:
            out.append(f"{kind} ROC-AUC {auc:.3f} is under {min_auc:.3f}")
    return out


def write_report(path: str | Path, report: dict[str, Any]) -> Path:
    """Write the report as Markdown (``.md``) or JSON (any other suffix)."""
    target = Path(path)
    if target.suffix.lower() in (".md", ".markdown"):
        target.write_text(to_markdown(report), encoding="utf-8")
    else:
        target.write_text(json.dumps(report, indent=2, allow_nan=False), encoding="utf-8")
    return target


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def _md_text(text: Any) -> str:
    """Table-safe text: pipes and line breaks would break a Markdown table."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    """A readable Markdown version of the report."""
    est, real = report.get("estimate") or {}, report.get("realised") or {}
    lines = [f"# Monitoring run {report['run_id']}", "",
             f"- model: `{report['model_hash'][:12]}`, data: `{report['data_fingerprint'][:12]}`"
             f", {report['rows']:,} rows, run at {report.get('created_at', '-')}",
             f"- at risk: {report['at_risk']:,} at threshold {report['threshold']:.3f}",
             f"- drift reference: {report.get('reference_source') or 'none yet'}", ""]
    alerts = report.get("alerts") or []
    lines += ["## Alerts", ""] + ([f"- {a}" for a in alerts] or ["- nothing to report"]) + [""]
    lines += ["## Performance", "", "| figure | ROC-AUC | precision | recall |",
              "|---|---|---|---|",
              f"| estimated (95 % interval) | {_fmt(est.get('roc_auc'))} "
              f"({_fmt(est.get('roc_auc_low'))}-{_fmt(est.get('roc_auc_high'))}) | "
              f"{_fmt(est.get('precision'))} | {_fmt(est.get('recall'))} |"]
    if real:
        lines.append(f"| realised ({real.get('rows', 0):,} outcomes) | "
                     f"{_fmt(real.get('roc_auc'))} | {_fmt(real.get('precision'))} | "
                     f"{_fmt(real.get('recall'))} |")
    drift = report.get("drift")
    lines += ["", "## Drift", ""]
    if not drift:
        lines.append(report.get("drift_note") or "not measured")
    else:
        lines += ["| feature | test | adjusted p | effect | drifted | why |",
                  "|---|---|---|---|---|---|"]
        rows = [*drift["features"], *([drift["score"]] if drift.get("score") else [])]
        for r in sorted(rows, key=lambda r: (not r["drifted"], -(r["effect"] or 0))):
            lines.append(f"| {_md_text(r['feature'])} | {r['test']} | "
                         f"{_fmt(r['p_adjusted'], '.2g')} | {r['effect_name']} "
                         f"{_fmt(r['effect'])} | {'yes' if r['drifted'] else 'no'} | "
                         f"{_md_text(r['why'])} |")
    diff = report.get("diff")
    lines += ["", "## Since the previous run", ""]
    if not diff:
        lines.append("first run of this model")
    else:
        lines += [f"- customers matched by {report.get('matched_by') or 'id'}",
                  f"- entered the at-risk list: {diff['entered_count']:,} "
                  f"({diff.get('entered_new_customers', 0):,} of them not in the previous run)",
                  f"- left it: {diff['left_count']:,} (and {diff['gone_at_risk']:,} at risk "
                  "before are absent now)",
                  f"- rank correlation of scores (Spearman): {_fmt(diff['spearman'])} over "
                  f"{diff['common_customers']:,} customers in both runs",
                  "- tier moves: " + (", ".join(f"{k}: {v:,}" for k, v in
                                                diff["tier_moves"].items()) or "none")]
        if diff["top_movers"]:
            lines += ["", "| customer | before | now | new reasons | dropped reasons |",
                      "|---|---|---|---|---|"]
            for m in diff["top_movers"]:
                lines.append(f"| {_md_text(m['customer_id'])} | {m['score_prev']:.3f} | "
                             f"{m['score_now']:.3f} | {_md_text(m['new_reasons'])} | "
                             f"{_md_text(m['dropped_reasons'])} |")
    return "\n".join(lines) + "\n"

"""What the command line says, as text: a problem on one line, the training summary."""

from __future__ import annotations

from churn_core.analysis import Analysis, CheckResult
from churn_core.problems import Problem, describe_rows

__all__ = ["format_problem", "training_summary"]


def format_problem(p: Problem) -> str:
    """One line for a problem: severity, code, column, message, rows and values."""
    parts = [f"{p.severity.upper():7} {p.code}"]
    if p.column:
        parts.append(f"[{p.column}]")
    parts.append(p.message)
    if p.rows:
        parts.append(f"({describe_rows(p.rows, p.count)})")
    if p.values:
        parts.append("values: " + ", ".join(repr(v) for v in p.values))
    if p.action:
        parts.append(f"-> {p.action}")
    return " ".join(parts)


def training_summary(analysis: Analysis, checked: CheckResult) -> list[str]:
    """The lines ``train`` prints: rows, folds, leaderboard, figures, calibration, the
    shipped model, threshold, segments and warnings."""
    lines: list[str] = []
    say = lines.append
    m = analysis.metrics()
    r = analysis.result
    warnings = [p for p in checked.problems if p.severity == "warning"]
    say(f"labelled rows: {m['rows_labelled']:,} (of {len(checked.dataset.frame):,}); "
          f"every one scored out of fold over {m['folds']} grouped folds")
    say(f"device: {m['device']}")
    say("leaderboard (cross-validated ROC-AUC, same folds):")
    for row in r.leaderboard.itertuples():
        mark = "  <- ships" if row.champion else ("" if row.explainable else
                                                   "  (shown, not shipped)")
        say(f"  {row.name:28} {row.cv_roc_auc:.4f} +/- {row.cv_roc_auc_std:.4f}{mark}")
    say(f"out-of-fold ROC-AUC: {m['roc_auc']:.4f}  PR-AUC: {m['pr_auc']:.4f}  "
          f"(base rate {m['base_rate']:.3f})")
    if m.get("backtest_roc_auc") is not None:
        say(f"backtest by time (latest cutoff) ROC-AUC: {m['backtest_roc_auc']:.4f}")
    cal = r.calibration
    say("calibration: " + (f"Platt scaling (out-of-fold log loss {cal.log_loss_raw:.4f} -> "
                             f"{cal.log_loss_calibrated:.4f})" if cal.used else
                             "none (it did not lower the out-of-fold log loss)"))
    say(f"shipped model: {r.champion}, refitted on all {m['rows_labelled']:,} labelled rows"
          + (f" ({r.trees} trees)" if r.champion == "xgboost" else ""))
    say(f"threshold: {analysis.threshold.value:.4f} ({analysis.threshold.method})")
    seg = analysis.segments
    say(f"segments: {seg.k if seg else 0}" + (f" on {', '.join(seg.features)}: "
                                                + "; ".join(seg.names) if seg else ""))
    say(f"warnings: {len(warnings)}")
    for p in warnings:
        say("  " + format_problem(p))
    return lines

"""``train --engine dask`` and ``score --engine dask``: the command-line side.

``__main__`` hands over the parsed arguments; options the Dask path does not do are
refused by name (``DASK_OPTION_UNSUPPORTED``) rather than silently ignored.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from churn_core.actions.files import load_action_rules
from churn_core.bundle import load_bundle, save_bundle
from churn_core.cli_types import CommandHelpers
from churn_core.events.build import SUMMARY_FILE
from churn_core.export import id_secret_from_env
from churn_core.model import TrainConfig
from churn_core.outputs import output_path
from churn_core.problems import ChurnDataError, Problem
from churn_core.schema import SchemaOverrides
from churn_core.threshold import Economics

from .cluster import dask_client, require_dask

log = logging.getLogger(__name__)

# option -> (argument name, the value meaning "not asked for")
TRAIN_ONLY_LOCAL = {"--cv": ("cv", TrainConfig().cv_folds),
                    "--value": ("value", Economics().value_retained),
                    "--actions": ("actions", None),
                    "--pseudonymise": ("pseudonymise", False),
                    "--value-column": ("value_column", None),
                    "--encoding": ("encoding", None), "--delimiter": ("delimiter", None),
                    "--sheet": ("sheet", None)}
SCORE_ONLY_LOCAL = {"--encoding": ("encoding", None), "--delimiter": ("delimiter", None),
                    "--sheet": ("sheet", None)}


def refuse_local_options(args: argparse.Namespace, options: dict[str, tuple[str, Any]]) -> None:
    """Refuse, by name, the options given that only the single-machine engine does."""
    given = [opt for opt, (attr, unset) in options.items()
             if getattr(args, attr, unset) not in (unset, None, False)]
    if given:
        raise ChurnDataError([Problem(
            "DASK_OPTION_UNSUPPORTED", "error",
            f"--engine dask does not do {', '.join(given)}.", values=tuple(given),
            action="leave them out, or use the default single-machine engine")])


def _feature_labels(data: str) -> dict[str, str]:
    """Plain-words feature names from the ``summary.json`` of a partitioned build."""
    path = Path(data)
    folder = path if path.is_dir() else path.parent
    summary = folder.parent / SUMMARY_FILE
    if not summary.is_file():
        return {}
    try:
        labels = json.loads(summary.read_text(encoding="utf-8")).get("feature_labels", {})
    except (OSError, ValueError, AttributeError):
        log.warning("could not read %s", summary)
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def train_command(args: argparse.Namespace, helpers: CommandHelpers) -> int:
    """``train DATA --engine dask [--scheduler ADDRESS]``: train and save a bundle."""
    from .train import train_dask

    refuse_local_options(args, TRAIN_ONLY_LOCAL)
    require_dask()
    out = output_path(args.out, inputs=(args.data,), directory=True)
    overrides = SchemaOverrides(id_column=args.id, label_column=args.label,
                                positive_value=args.positive)
    with dask_client(args.scheduler) as client:
        result = train_dask(args.data, client=client, overrides=overrides,
                            confirmed=args.confirm or (), seed=args.seed,
                            device="cuda" if args.device == "cuda" else "cpu",
                            feature_labels=_feature_labels(args.data),
                            segments=args.segments, class_weight=args.class_weight,
                            search=not args.no_search, progress=helpers.progress)
    helpers.print_problems([p for p in result.problems if p.severity == "warning"])
    save_bundle(out, result.bundle)
    held = result.held_out
    info = result.bundle.info
    helpers.echo(f"engine: dask ({info['workers']} workers, {info['partitions']} partition(s)); "
                 f"rows: {result.rows:,}")
    search = info.get("search")
    how = (f"the best of {len(search['settings'])} compared on {search['train_rows']:,} "
           f"sampled training rows, judged on {search['valid_rows']:,} early-stopping rows"
           if search else "the middle setting, no search")
    helpers.echo(f"trained on {result.rows_train:,} rows (early stopping on "
                 f"{result.rows_valid:,}); {info['trees']} trees; settings "
                 f"{_shown_settings(info['params'])} ({how})")
    cal = result.bundle.calibration
    helpers.echo(f"calibration: Platt scaling (log loss {cal.log_loss_raw:.4f} -> "
                 f"{cal.log_loss_calibrated:.4f} on sampled early-stopping rows)" if cal.used
                 else "calibration: none (it did not lower the log loss of the early-stopping "
                 "rows)")
    segments = result.bundle.segments
    helpers.echo(f"segments: {segments.k} on {', '.join(segments.features)}" if segments
                 else "segments: none (no feature varies)")
    helpers.echo(f"held-out ROC-AUC: {held.roc_auc:.4f}  PR-AUC: {held.pr_auc:.4f}  "
                 f"({held.rows:,} rows held out, base rate {held.base_rate:.3f})")
    helpers.echo(f"threshold: {held.threshold:.4f} (best F1 on held-out scores)")
    helpers.echo(f"bundle written to {args.out} in {result.seconds:.1f} s")
    return 0


def _shown_settings(params: dict[str, Any]) -> str:
    keys = ("max_depth", "learning_rate", "min_child_weight", "scale_pos_weight")
    return ", ".join(f"{k}={round(params[k], 4):g}" for k in keys if k in params)


def score_command(args: argparse.Namespace, helpers: CommandHelpers) -> int:
    """``score BUNDLE DATA --engine dask --out FOLDER``: partitioned scores."""
    from .score import PartitionOptions, score_dask

    refuse_local_options(args, SCORE_ONLY_LOCAL)
    require_dask()
    # no key, no scoring: said before any work (the key travels to the workers with the tasks)
    secret = id_secret_from_env() if args.pseudonymise else None
    out = output_path(args.out, inputs=(args.data, args.bundle), directory=True)
    bundle = load_bundle(args.bundle)
    options = PartitionOptions(
        at_risk_only=args.at_risk_only, explain_rows="all" if args.explain == "all" else "at_risk",
        rules=load_action_rules(args.actions) if args.actions else None,
        value=args.value_column or args.value, device=args.device, id_secret=secret)
    with dask_client(args.scheduler):
        result = score_dask(bundle, args.data, out, threshold=args.threshold, top_n=args.top,
                            options=options)
    helpers.print_problems([p for p in result.problems if p.severity != "info"])
    gone = f"; {result.left_out:,} already churned left out" if result.left_out else ""
    helpers.echo(f"scored {result.rows:,} customers; {result.at_risk:,} at risk at threshold "
                 f"{result.threshold:.4f}{gone}; {result.files} Parquet file(s) written to "
                 f"{args.out}")
    return 0

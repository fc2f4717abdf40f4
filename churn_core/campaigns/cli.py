"""The ``campaign`` commands of ``python -m churn_core``: start, outcomes, report, uplift, list.

Kept apart from ``churn_core/__main__.py``, which passes in its shared helpers
(problem printing, read options, progress, and ``echo``: it writes to standard output
only through that).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from churn_core.bundle import ModelBundle, load_bundle
from churn_core.campaigns import (
    campaign_history,
    campaign_report,
    model_hash,
    start_campaign,
    upload_outcomes,
)
from churn_core.campaigns.uplift import learn_from_campaign, rank_by_uplift
from churn_core.cli_types import CommandHelpers
from churn_core.export import to_csv_bytes
from churn_core.features import transform
from churn_core.reading.table import read_table
from churn_core.score import align_columns, score_frame
from churn_core.threshold import Economics


def _campaign_economics(bundle: ModelBundle) -> dict:
    """The economics saved with the bundle's threshold (Alerts page), else the defaults."""
    saved = bundle.threshold.get("detail", {}).get("economics")
    return dict(saved) if isinstance(saved, dict) else asdict(Economics())


def cmd_campaign_start(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Score DATA, draw the control group over the flagged customers, record and write the list."""
    bundle = load_bundle(args.bundle)
    read = read_table(args.data, options=h.read_options(args))
    h.print_problems([p for p in read.problems if p.severity != "info"])
    result = score_frame(bundle, read.frame, threshold=args.threshold, top_n=args.top,
                         explain_rows="at_risk", progress=h.progress)
    h.print_problems([p for p in result.problems if p.severity != "info"])
    id_name = result.table.columns[0]
    numeric = [c for c in bundle.preprocessor.feature_names if c in read.frame.columns
               and c != id_name]
    features = read.frame.iloc[result.rows][numeric].reset_index(drop=True)
    features.insert(0, id_name, result.table[id_name].to_numpy())
    plan = start_campaign(result.table, name=args.name, holdout=args.holdout, features=features,
                          model_hash=model_hash(bundle.booster), threshold=result.threshold,
                          economics=_campaign_economics(bundle), store=args.store)
    Path(args.out).write_bytes(to_csv_bytes(plan.members))
    h.print_problems(plan.problems, stream=sys.stdout)
    worst = plan.balance["smd"].abs().max()
    h.echo(f"campaign '{plan.name}': {plan.n_contact:,} to contact, {plan.n_control:,} control "
           f"({plan.holdout:.0%}); list written to {args.out}")
    h.echo(f"balance: largest standardised mean difference {worst:.3f} over "
           f"{len(plan.balance)} variable(s)")
    h.echo(f"expected interval of the uplift: +/-{100 * plan.power.half_width:.1f} points; "
           f"minimum detectable effect {100 * plan.power.mde:.1f} points")
    return 0


def cmd_campaign_outcomes(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Record a campaign's outcomes from FILE (idempotent)."""
    read = read_table(args.file, options=h.read_options(args))
    done = upload_outcomes(read.frame, name=args.name, file_name=Path(args.file).name,
                           store=args.store, id_column=args.id, churn_column=args.churn,
                           positive_value=args.positive, revenue_column=args.revenue)
    h.print_problems(done.problems, stream=sys.stdout)
    if done.duplicate:
        h.echo("these outcomes were uploaded before: nothing changed")
    h.echo(f"rows: {done.n_rows:,}  matched: {done.n_matched:,}  match rate: "
           f"{done.match_rate:.1%}  refused (not on the list): {done.n_unknown:,}")
    h.echo(f"stored: {done.n_new:,} new, {done.n_changed:,} changed; members with an outcome: "
           f"{done.coverage:.1%}")
    return 0


def _money(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:,.0f}"


def cmd_campaign_report(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Print a campaign's effect; optionally write the whole report as JSON."""
    report = campaign_report(args.name, store=args.store)
    s = report.to_dict()
    h.print_problems(report.problems, stream=sys.stdout)

    def pp(key: str) -> str:
        v = s[key]
        return "-" if v is None else f"{v:+.1f}"

    def rate(v: float | None) -> str:
        return "-" if v is None else f"{v:.1%}"

    h.echo(f"campaign '{s['campaign']}' started {s['created_at']}: {s['n_members']:,} members, "
           f"outcomes for {s['n_outcomes']:,}")
    h.echo(f"churn rate: contact {rate(s['churn_rate_contact'])} (n={s['n_contact']:,}), "
           f"control {rate(s['churn_rate_control'])} (n={s['n_control']:,})")
    h.echo(f"uplift: {pp('uplift_pp')} points (95% CI {pp('uplift_ci_low')} to "
           f"{pp('uplift_ci_high')})")
    h.echo(f"customers saved: {_money(s['customers_saved'])} ({_money(s['customers_saved_ci_low'])}"
           f" to {_money(s['customers_saved_ci_high'])})")
    h.echo(f"incremental revenue: {_money(s['incremental_revenue'])} "
           f"({_money(s['incremental_revenue_ci_low'])} to "
           f"{_money(s['incremental_revenue_ci_high'])}); {s['revenue_basis']}")
    h.echo(f"profit after {_money(s['campaign_cost'])} of offer and contact costs: "
           f"{_money(s['profit'])} ({_money(s['profit_ci_low'])} to {_money(s['profit_ci_high'])})")
    h.echo(f"{'decile':>6} {'contact':>8} {'control':>8} {'churn c':>8} {'churn k':>8} "
           f"{'uplift':>7}  95% CI")
    for r in s["by_decile"]:
        ci = ("-" if r["uplift_ci_low"] is None else
              f"{r['uplift_ci_low']:+.1f} to {r['uplift_ci_high']:+.1f}")
        up = "-" if r["uplift_pp"] is None else f"{r['uplift_pp']:+.1f}"
        h.echo(f"{r['decile']:>6} {r['n_contact']:>8,} {r['n_control']:>8,} "
               f"{rate(r['churn_rate_contact']):>8} {rate(r['churn_rate_control']):>8} "
               f"{up:>7}  {ci}")
    if args.json:
        Path(args.json).write_text(json.dumps(s, indent=2, ensure_ascii=False),
                                   encoding="utf-8")
        h.echo(f"report written to {args.json}")
    return 0


def cmd_campaign_list(args: argparse.Namespace, h: CommandHelpers) -> int:
    """List the campaigns in the store, newest first."""
    history = campaign_history(store=args.store)
    if history.empty:
        h.echo("no campaigns yet")
        return 0
    for r in history.itertuples(index=False):
        effect = ("no outcomes" if r.uplift_pp != r.uplift_pp else
                  f"uplift {r.uplift_pp:+.1f} points ({r.uplift_ci_low:+.1f} to "
                  f"{r.uplift_ci_high:+.1f})")
        h.echo(f"{r.name}  {r.created_at}  {r.n_members:,} members ({r.n_control:,} control), "
               f"{r.n_outcomes:,} outcomes; {effect}")
    return 0


def cmd_campaign_uplift(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Learn uplift from a finished campaign; write DATA ranked by expected uplift."""
    bundle = load_bundle(args.bundle)
    read = read_table(args.data, options=h.read_options(args))
    result = score_frame(bundle, read.frame, explain_rows="at_risk", progress=h.progress)
    # The customers scored (those whose label says churned are left out), row for row.
    aligned, _ = align_columns(read.frame.iloc[result.rows], bundle)
    X, _ = transform(bundle.preprocessor, aligned.reset_index(drop=True))
    ids = result.table.iloc[:, 0].astype(str)
    learned = learn_from_campaign(args.name, X, ids, store=args.store)
    h.print_problems(learned.problems, stream=sys.stdout)
    ranked = rank_by_uplift(result.table, learned.model, X, ids)
    Path(args.out).write_bytes(to_csv_bytes(ranked))
    h.echo(f"learned from {learned.n_members:,} members of '{args.name}' (cross-fitted)")
    h.echo(f"{'contacted':>9} {'saved by risk':>14} {'by uplift':>10} {'profit by risk':>15} "
           f"{'by uplift':>10}")
    for r in learned.curve.itertuples(index=False):
        h.echo(f"{r.share:>9.0%} {r.saved_by_risk:>14,.0f} {r.saved_by_uplift:>10,.0f} "
               f"{r.profit_by_risk:>15,.0f} {r.profit_by_uplift:>10,.0f}")
    h.echo(f"{len(ranked):,} customers ranked by expected uplift written to {args.out}")
    return 0


def add_campaign_parsers(sub: Any, h: CommandHelpers, *,
                         add_read_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``campaign start|outcomes|report|list`` to the main parser's subcommands."""
    camp = sub.add_parser("campaign", help="retention campaigns with a control group")
    csub = camp.add_subparsers(dest="campaign_command", required=True)
    store_help = "store file (default: $CHURN_RADAR_HOME/churn_radar.db)"

    p = csub.add_parser("start", help="score DATA and start a campaign over the flagged "
                        "customers, with a control group")
    p.add_argument("bundle")
    p.add_argument("data")
    p.add_argument("--name", required=True, help="campaign name (seeds the control group)")
    p.add_argument("--out", required=True, help="CSV list to write (with a group column)")
    p.add_argument("--holdout", type=float, default=0.1, help="control group share")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--threshold", type=float, help="probability cut-off (default: the saved one)")
    g.add_argument("--top", type=int, help="the N riskiest customers")
    p.add_argument("--store", help=store_help)
    add_read_args(p)
    p.set_defaults(func=partial(cmd_campaign_start, h=h))

    p = csub.add_parser("outcomes", help="record who churned after a campaign")
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--id", help="id column of FILE (default: the campaign's, else the first)")
    p.add_argument("--churn", help="churn column of FILE (default: detected)")
    p.add_argument("--positive", help="churn value that means churned (default: detected)")
    p.add_argument("--revenue", help="revenue column of FILE (default: detected by name)")
    p.add_argument("--store", help=store_help)
    add_read_args(p)
    p.set_defaults(func=partial(cmd_campaign_outcomes, h=h))

    p = csub.add_parser("report", help="the campaign's effect with 95%% intervals")
    p.add_argument("name")
    p.add_argument("--json", help="also write the report as JSON here")
    p.add_argument("--store", help=store_help)
    p.set_defaults(func=partial(cmd_campaign_report, h=h))

    p = csub.add_parser("uplift", help="learn from a finished campaign who the offer saves; "
                        "rank DATA by expected uplift")
    p.add_argument("name")
    p.add_argument("bundle")
    p.add_argument("data", help="customer table holding the campaign's members (features)")
    p.add_argument("--out", required=True, help="CSV of DATA ranked by expected uplift")
    p.add_argument("--store", help=store_help)
    add_read_args(p)
    p.set_defaults(func=partial(cmd_campaign_uplift, h=h))

    p = csub.add_parser("list", help="every campaign in the store")
    p.add_argument("--store", help=store_help)
    p.set_defaults(func=partial(cmd_campaign_list, h=h))

"""Argument types of the command line: each refuses a bad value with a plain argparse message.

argparse shows the message and exits with status 2, as every user mistake on the command
line does.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from churn_core.events.types import FREQUENCIES


@dataclass(frozen=True)
class CommandHelpers:
    """What ``__main__`` lends the command modules (build, campaigns, monitoring, clv)."""

    print_problems: Callable[..., None]
    read_options: Callable[[argparse.Namespace], Any]
    progress: Callable[[float, str], None]
    echo: Callable[..., None]  # writes a line to standard output (the command line's print)


def cutoffs(text: str) -> str | list[str]:
    """``--cutoffs``: a frequency name, or a comma-separated list of dates."""
    return text if text in FREQUENCIES else [d.strip() for d in text.split(",") if d.strip()]


def memory_limit(text: str) -> str:
    """``--memory-limit``: a size such as 3GB or 800MB."""
    if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", text, re.I):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 3GB or 800MB")
    return text.strip()


def folds(text: str) -> int:
    """``--cv``: cross-fitting folds, a whole number of 2 or more."""
    if not text.strip().isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: the folds must be a whole number of 2 or "
                                         "more")
    return int(text)


def probability(text: str) -> float:
    """``--threshold``: a probability between 0 and 1 (NaN and infinities refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses NaN and infinities
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability between 0 and 1")
    return value


def positive_int(text: str) -> int:
    """A whole number of 1 or more (``--top``, ``--threads``, ``--segments``, ``--n``)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def amount(text: str) -> float:
    """``--value``: an amount of 0 or more (NaN and infinities refused)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of 0 or more")
    return value

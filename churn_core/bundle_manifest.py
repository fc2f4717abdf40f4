"""Checks of a bundle's ``manifest.json``: its content hash, and the fields the app reads.

A manifest comes from a file a user supplies, so everything in it is checked
before use: JSON without NaN/Infinity or deep nesting, a content hash over the
whole manifest and the model, a threshold that is a probability, metrics shown
as numbers that are numbers. Each failure raises
:class:`~churn_core.problems.ChurnDataError` (through the bundle loader) with
``BUNDLE_BAD_MANIFEST``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from churn_core.problems import ChurnDataError, Problem

CONTENT_HASH = "content_sha256"
MAX_JSON_DEPTH = 64
#: Metrics the pages and the command line format as numbers.
NUMERIC_METRICS = frozenset({
    "roc_auc", "pr_auc", "base_rate", "log_loss", "brier", "cv_roc_auc", "cv_roc_auc_std",
    "baseline_roc_auc", "baseline_cv_roc_auc", "rows_train", "rows_valid", "rows_test"})


def _error(code: str, message: str) -> ChurnDataError:
    return ChurnDataError([Problem(code=code, severity="error", message=message)])


def _canonical(manifest: dict[str, Any]) -> bytes:
    """The manifest as canonical JSON bytes, the content hash field left out."""
    body = {k: v for k, v in manifest.items() if k != CONTENT_HASH}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_digest(manifest: dict[str, Any], model_raw: bytes) -> str:
    """SHA-256 of the canonical manifest (all fields but ``content_sha256``) and the model.

    Fields added to the manifest later are covered without any change here.
    """
    digest = hashlib.sha256()
    canonical = _canonical(manifest)
    digest.update(len(canonical).to_bytes(8, "big"))  # no ambiguity where one part ends
    digest.update(canonical)
    digest.update(model_raw)
    return digest.hexdigest()


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """JSON object of ``manifest.json``; NaN/Infinity and deep nesting refused."""
    def no_constants(name: str) -> None:
        raise ValueError(f"{name} is not allowed in a manifest")

    try:
        text = raw.decode("utf-8")
        if _depth(text) > MAX_JSON_DEPTH:
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        manifest = json.loads(text, parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _error("BUNDLE_BAD_MANIFEST", f"manifest.json is not valid JSON "
                     f"({str(exc)[:200]})") from None
    if not isinstance(manifest, dict):
        raise _error("BUNDLE_BAD_MANIFEST", "manifest.json is not a churn-radar manifest "
                     f"(a JSON {type(manifest).__name__}, not an object)")
    return manifest


def _depth(text: str) -> int:
    """Deepest bracket nesting of JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        token = m.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _probability(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{what} must be a number between 0 and 1, got {str(value)[:40]!r}")
    return float(value)


def check_threshold(raw: Any) -> dict[str, Any]:
    """The saved threshold, checked: a probability, a text method, a detail object."""
    if not isinstance(raw, dict):
        raise TypeError("threshold must be an object")
    detail = raw.get("detail") or {}
    method = raw.get("method", "")
    if not isinstance(detail, dict) or not isinstance(method, str):
        raise TypeError("threshold detail must be an object and its method text")
    if detail.get("medium_from") is not None:
        _probability(detail["medium_from"], "threshold.detail.medium_from")
    return {**raw, "value": _probability(raw.get("value"), "threshold.value"),
            "method": method, "detail": detail}


def check_metrics(raw: Any) -> dict[str, Any]:
    """Recorded metrics: the scores shown as numbers must be finite numbers or None.

    Other fields (added by later versions) are kept as they are.
    """
    if not isinstance(raw, dict):
        raise TypeError("metrics must be an object")
    for key in NUMERIC_METRICS & set(raw):
        value = raw[key]
        number = isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value)
        if not (value is None or number):
            raise ValueError(f"metric {key!r} must be a number, got {str(value)[:40]!r}")
    return raw

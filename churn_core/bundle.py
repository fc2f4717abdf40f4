"""Model bundles: XGBoost UBJ plus a JSON manifest. Never pickle.

A bundle is a directory (or a zip of it, for uploads) holding exactly
``model.ubj`` and ``manifest.json``. Loading checks sizes, the manifest's
format and version, the model file's SHA-256, and ``content_sha256``: one
SHA-256 over the whole manifest (every field but that one, in canonical JSON)
and the model file together, so that no field can be changed (the feature
order, the threshold, a field added later) without the bundle being refused.
It refuses anything else, pickles and joblib files included, without ever
executing their content. The hash finds changes and damage; it is not a
signature (someone who edits a manifest can compute a new hash).

Saving writes a new folder beside the target and swaps it in
(:func:`churn_core.outputs.replace_folder`), so a killed run never leaves a
mismatched pair, and a second writer is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import platform
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xgboost as xgb

from churn_core import __version__
from churn_core.bundle_manifest import (
    CONTENT_HASH,
    check_metrics,
    check_threshold,
    content_digest,
    parse_manifest,
)
from churn_core.calibration import Calibration
from churn_core.features import Preprocessor
from churn_core.linear import LinearModel
from churn_core.outputs import replace_folder
from churn_core.problems import ChurnDataError, Problem
from churn_core.schema import Schema
from churn_core.segments import SegmentModel
from churn_core.training import predict_shipped

log = logging.getLogger(__name__)

FORMAT = "churn-radar-bundle"
BUNDLE_VERSION = 2  # 2: content_sha256 covers the manifest and the model
MODEL_FILE = "model.ubj"
MANIFEST_FILE = "manifest.json"
EXTRA_FILES = ("at_risk.csv",)  # written by train beside the model, replaced with it
MAX_MODEL_BYTES = 256 * 1024**2
MAX_MANIFEST_BYTES = 32 * 1024**2
PICKLE_MARKERS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@dataclass(frozen=True)
class ModelBundle:
    """Everything needed to score new data the way the model was trained.

    Attributes
    ----------
    booster : xgboost.Booster
        XGBoost refitted on every labelled row (in ``model.ubj``).
    preprocessor : Preprocessor
    schema : Schema
    segments : SegmentModel or None
    threshold : dict
        ``{"value": float, "method": str, "detail": {...}}``.
    metrics : dict
        Held-out scores recorded at training time.
    feature_labels : dict
        Plain-words templates per feature.
    info : dict
        Seed, parameters, device, data fingerprint, versions, creation time.
    champion : {"xgboost", "logistic"}
        The model that scores: the booster, or the logistic model kept in the manifest.
    linear : LinearModel or None
        The logistic model when it is the champion.
    calibration : Calibration
        Platt map applied to the champion's probabilities.
    leaderboard : list of dict
        The cross-validated comparison of model families.
    reference_profile : dict or None
        Compact distributions of the training features and out-of-fold scores, what
        ``monitor`` measures drift against.
    """

    booster: xgb.Booster
    preprocessor: Preprocessor
    schema: Schema
    segments: SegmentModel | None
    threshold: dict[str, Any]
    metrics: dict[str, Any]
    feature_labels: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    champion: str = "xgboost"
    linear: LinearModel | None = None
    calibration: Calibration = field(default_factory=Calibration)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    reference_profile: dict[str, Any] | None = None

    def predict(self, X: Any) -> Any:
        """Calibrated churn probability of the shipped model for a transformed frame."""
        return predict_shipped(self.champion, self.booster, self.linear, self.calibration, X)


def _versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn

    return {"churn_core": __version__, "xgboost": xgb.__version__, "pandas": pandas.__version__,
            "numpy": numpy.__version__, "scikit-learn": sklearn.__version__,
            "python": platform.python_version()}


def _error(code: str, message: str) -> ChurnDataError:
    return ChurnDataError([Problem(code=code, severity="error", message=message)])


def manifest_of(bundle: ModelBundle, model_bytes: bytes) -> dict[str, Any]:
    """The JSON manifest describing ``bundle`` (model file hash included)."""
    pre = bundle.preprocessor
    types = {f: ("categorical" if f in pre.categorical else
                 "datetime" if f in pre.datetime else "numeric") for f in pre.feature_names}
    return {
        "format": FORMAT,
        "bundle_version": BUNDLE_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_file": MODEL_FILE,
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "features": list(pre.feature_names),
        "feature_types": types,
        "label": {"column": bundle.schema.label_column,
                  "mapping": dict(bundle.schema.label_mapping),
                  "positive": bundle.schema.positive_label},
        "id_column": bundle.schema.id_column,
        "schema": bundle.schema.to_dict(),
        "preprocessing": pre.to_dict(),
        "segments": bundle.segments.to_dict() if bundle.segments else None,
        "threshold": bundle.threshold,
        "model": {"champion": bundle.champion,
                  "linear": bundle.linear.to_dict() if bundle.linear is not None else None},
        "calibration": bundle.calibration.to_dict(),
        "leaderboard": bundle.leaderboard,
        "reference_profile": bundle.reference_profile,
        "metrics": bundle.metrics,
        "feature_labels": bundle.feature_labels,
        "info": {**bundle.info, "versions": _versions()},
    }


def _sealed(bundle: ModelBundle, raw: bytes) -> str:
    """The manifest JSON text of ``bundle``, content hash included."""
    manifest = json.loads(json.dumps(_finite(manifest_of(bundle, raw)), allow_nan=False,
                                     default=_json_default))  # as a reader will see it
    manifest[CONTENT_HASH] = content_digest(manifest, raw)
    return json.dumps(manifest, indent=2, allow_nan=False)


def _model_bytes(booster: xgb.Booster) -> bytes:
    return bytes(booster.save_raw(raw_format="ubj"))


def save_bundle(path: str | Path, bundle: ModelBundle, *,
                extra: Mapping[str, bytes] | None = None) -> Path:
    """Write ``bundle`` into directory ``path`` (created if needed); return the path.

    The folder is replaced as a whole (see the module notes). ``extra`` files (the
    at-risk list written by ``train``) go into the same folder in the same swap, so a
    new model never sits beside an old list; loading ignores them.

    Raises
    ------
    ChurnDataError
        ``OUTPUT_NOT_OURS`` (the folder holds other files), ``OUTPUT_BUSY``
        (another run is saving there), ``OUTPUT_WRITE_FAILED`` (disk full...).
    """
    out = Path(path)
    raw = _model_bytes(bundle.booster)
    text = _sealed(bundle, raw)
    files = dict(extra or {})
    with replace_folder(out, ours=(MODEL_FILE, MANIFEST_FILE, *EXTRA_FILES, *files)) as tmp:
        (tmp / MODEL_FILE).write_bytes(raw)
        (tmp / MANIFEST_FILE).write_text(text, encoding="utf-8")
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    log.info("saved model bundle to %s", out)
    return out


def _finite(obj: Any) -> Any:
    """Replace NaN and infinite floats by None (JSON has no NaN: ``cv_roc_auc`` is NaN
    when cross-validation is skipped)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _json_default(obj: object) -> object:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def bundle_to_zip(bundle: ModelBundle) -> bytes:
    """The bundle as zip bytes (for a download button)."""
    raw = _model_bytes(bundle.booster)
    manifest = _sealed(bundle, raw)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MODEL_FILE, raw)
        zf.writestr(MANIFEST_FILE, manifest)
    return buf.getvalue()


_COMPRESSED = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda",  # zlib (joblib)
               b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18")  # gzip bz2 xz lz4
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".jbl", ".sav", ".dill", ".cloudpkl")
_PROTOCOL0_START = re.compile(rb"^(?:\(|\}|\]|c[\w.]+\n|I\d|[SVF].)")


def _looks_like_pickle(data: bytes) -> bool:
    """Tell a pickle (any protocol) from its first bytes, without unpickling anything."""
    if data[:1] == b"\x80":  # PROTO opcode: protocol 2 and later
        return True
    # protocols 0 and 1 start with MARK, EMPTY_DICT/LIST, GLOBAL, INT or STRING and end with STOP
    return bool(_PROTOCOL0_START.match(data[:64])) and data.rstrip(b"\r\n").endswith(b".")


def _pickle_head(head: bytes) -> bool:
    """Like :func:`_looks_like_pickle` for the first bytes only (the end is not known)."""
    return head[:1] == b"\x80" or bool(_PROTOCOL0_START.match(head[:64]))


def _decompressed_head(data: bytes) -> bytes:
    """First bytes of a zlib/gzip/bz2/xz stream (joblib's compressed files), else b""."""
    import bz2
    import lzma
    import zlib

    try:
        if data[:1] == b"\x78":
            return zlib.decompressobj().decompress(data[:4096], 256)
        if data[:2] == b"\x1f\x8b":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:4096], 256)
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data[:4096], 256)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(data[:4096], 256)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return b""
    return b""


def _refuse_foreign(data: bytes, what: str) -> None:
    """Refuse pickles and joblib files (plain or compressed) by their bytes and name.

    Nothing is unpickled: the checks read the first bytes only (and decompress at
    most 256 bytes of a compressed file to look inside).
    """
    foreign = (data[:2] in PICKLE_MARKERS or _looks_like_pickle(data)
               or what.lower().endswith(_PICKLE_SUFFIXES)
               or (data.startswith(_COMPRESSED) and _pickle_head(_decompressed_head(data))))
    if foreign:
        raise _error("BUNDLE_PICKLE", f"{what} is a Python pickle/joblib file; churn-radar never "
                     "loads pickles (they can run code). Save the model with churn-radar instead.")


def _from_parts(model_raw: bytes, manifest_raw: bytes) -> ModelBundle:
    if len(manifest_raw) > MAX_MANIFEST_BYTES:
        raise _error("BUNDLE_TOO_LARGE", f"manifest.json is {len(manifest_raw):,} bytes, "
                     f"over the {MAX_MANIFEST_BYTES:,} limit")
    if len(model_raw) > MAX_MODEL_BYTES:
        raise _error("BUNDLE_TOO_LARGE", f"model.ubj is {len(model_raw):,} bytes, "
                     f"over the {MAX_MODEL_BYTES:,} limit")
    _refuse_foreign(model_raw, "model.ubj")
    manifest = parse_manifest(manifest_raw)
    if manifest.get("format") != FORMAT:
        raise _error("BUNDLE_BAD_MANIFEST", "manifest.json is not a churn-radar manifest")
    version = manifest.get("bundle_version")
    if type(version) is not int or version != BUNDLE_VERSION:
        older = type(version) is int and version < BUNDLE_VERSION
        raise _error("BUNDLE_VERSION", f"bundle version {str(version)[:20]!r} is not supported "
                     f"(expected {BUNDLE_VERSION})" + ("; it was saved by an older churn-radar "
                     "without a manifest hash: train the model again" if older else ""))
    if hashlib.sha256(model_raw).hexdigest() != manifest.get("model_sha256"):
        raise _error("BUNDLE_MODEL_MISMATCH", "model.ubj does not match its manifest "
                     "(hash differs): the file was changed, truncated or swapped")
    if content_digest(manifest, model_raw) != manifest.get(CONTENT_HASH):
        raise _error("BUNDLE_TAMPERED", "manifest.json was changed after the bundle was saved "
                     "(its content hash differs): features, threshold or settings cannot be "
                     "trusted. Use the bundle as saved, or train again")
    try:
        pre = Preprocessor.from_dict(manifest["preprocessing"])
        schema = Schema.from_dict(manifest["schema"])
        segments = SegmentModel.from_dict(manifest["segments"]) if manifest["segments"] else None
        threshold = check_threshold(manifest["threshold"])
        metrics = check_metrics(manifest.get("metrics", {}))
        labels = manifest.get("feature_labels", {})
        if not (isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values())):
            raise TypeError("feature_labels must map names to text")
        if not all(isinstance(f, str) for f in pre.feature_names):
            raise TypeError("feature names must be text")
        if not isinstance(manifest.get("info", {}), dict):
            raise TypeError("info must be an object")
        model = manifest.get("model") or {"champion": "xgboost"}
        if not isinstance(model, dict):
            raise TypeError("model must be an object")
        champion = str(model.get("champion", "xgboost"))
        if champion not in ("xgboost", "logistic"):
            raise ValueError(f"unknown champion model {champion!r}")
        linear = LinearModel.from_dict(model["linear"]) if champion == "logistic" else None
        calibration = Calibration.from_dict(manifest.get("calibration"))
        leaderboard = list(manifest.get("leaderboard") or [])
        reference = manifest.get("reference_profile")
        if reference is not None and not isinstance(reference, dict):
            raise TypeError("reference_profile is not an object")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise _error("BUNDLE_BAD_MANIFEST", f"manifest.json is malformed ({str(exc)[:200]})"
                     ) from None
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(model_raw))
    except xgb.core.XGBoostError as exc:
        raise _error("BUNDLE_CORRUPT", f"model.ubj could not be read ({str(exc)[:200]})") from None
    if booster.num_features() != len(pre.feature_names):
        raise _error("BUNDLE_MODEL_MISMATCH", f"model has {booster.num_features()} features but "
                     f"the manifest lists {len(pre.feature_names)}")
    if linear is not None and [f for f, _ in linear.spec.columns if f not in
                               pre.feature_names]:
        raise _error("BUNDLE_MODEL_MISMATCH", "the logistic model names features the "
                     "manifest does not list")
    return ModelBundle(booster, pre, schema, segments, threshold, metrics, labels,
                       manifest.get("info", {}), champion=champion, linear=linear,
                       calibration=calibration, leaderboard=leaderboard,
                       reference_profile=reference)


def load_bundle(path: str | Path) -> ModelBundle:
    """Load a bundle directory (or a .zip of one), refusing anything that is not ours.

    Raises
    ------
    ChurnDataError
        ``BUNDLE_NOT_FOUND``, ``BUNDLE_PICKLE``, ``BUNDLE_TOO_LARGE``, ``BUNDLE_BAD_MANIFEST``,
        ``BUNDLE_VERSION``, ``BUNDLE_MODEL_MISMATCH``, ``BUNDLE_TAMPERED`` or ``BUNDLE_CORRUPT``.
    """
    p = Path(path)
    if p.is_file():
        if p.stat().st_size > MAX_MODEL_BYTES + MAX_MANIFEST_BYTES:
            raise _error("BUNDLE_TOO_LARGE", f"{p.name} is larger than a model bundle can be")
        return load_bundle_bytes(p.read_bytes(), name=p.name)
    model, manifest = p / MODEL_FILE, p / MANIFEST_FILE
    if not (model.is_file() and manifest.is_file()):
        raise _error("BUNDLE_NOT_FOUND", f"{p} is not a churn-radar bundle: it needs "
                     f"{MODEL_FILE} and {MANIFEST_FILE}")
    for f, limit in ((model, MAX_MODEL_BYTES), (manifest, MAX_MANIFEST_BYTES)):
        if f.stat().st_size > limit:
            raise _error("BUNDLE_TOO_LARGE", f"{f.name} is {f.stat().st_size:,} bytes, over "
                         f"the {limit:,} limit")
    return _from_parts(model.read_bytes(), manifest.read_bytes())


def load_bundle_bytes(data: bytes, *, name: str = "upload") -> ModelBundle:
    """Load a bundle from zip bytes (an upload). Pickles are refused unread."""
    _refuse_foreign(data, name)
    if not data.startswith(b"PK"):
        raise _error("BUNDLE_NOT_FOUND", f"{name} is not a churn-radar bundle (expected a .zip "
                     f"holding {MODEL_FILE} and {MANIFEST_FILE})")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            if set(infos) != {MODEL_FILE, MANIFEST_FILE}:
                hint = " (it holds a pickle)" if any(n.endswith((".pkl", ".pickle", ".joblib"))
                                                    for n in infos) else ""
                raise _error("BUNDLE_NOT_FOUND", f"{name} must hold exactly {MODEL_FILE} and "
                             f"{MANIFEST_FILE}, found {sorted(infos)[:5]}{hint}")
            if infos[MODEL_FILE].file_size > MAX_MODEL_BYTES or \
                    infos[MANIFEST_FILE].file_size > MAX_MANIFEST_BYTES:
                raise _error("BUNDLE_TOO_LARGE", f"{name} unpacks to more than a bundle may hold")
            return _from_parts(zf.read(MODEL_FILE), zf.read(MANIFEST_FILE))
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _error("BUNDLE_CORRUPT", f"{name} is not a readable zip ({exc})") from None

"""Security: model files never run code, bundles are checked, uploads are guarded,
user text is never rendered as HTML, exports carry no plain-hashed ids."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import re
import shutil
import sys
import tomllib
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest

from churn_core import bundle as bundle_module
from churn_core.bundle import load_bundle, load_bundle_bytes, save_bundle
from churn_core.bundle_manifest import content_digest
from churn_core.export import ID_SECRET_ENV, hash_ids, id_secret_from_env
from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check, make_bundle
from churn_core.problems import ChurnDataError
from churn_core.reading.guarded import read_table_guarded, run_child
from churn_core.reading.table import ReadOptions, read_table

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "bad_inputs" / "files"
XSS = "<img src=x onerror=alert(1)>"


def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.code for p in exc.value.problems]


# ----------------------------------------------------------- model files


class _Payload:
    """Unpickling this creates the marker file: proof that the pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PICKLE_WAS_EXECUTED"


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch):
    """Belt and braces: any attempt to unpickle during these tests fails loudly."""
    def refuse(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


@pytest.fixture(scope="module")
def saved_bundle(tmp_path_factory) -> Path:
    check = load_and_check(CORPUS / "clean_train.csv")
    config = TrainConfig(cv_folds=2, side_models=False,
                         search=False, n_estimators=30, early_stopping_rounds=5,
                         device="cpu")
    analysis = fit_all(check.dataset, config=config, k=2)
    return save_bundle(tmp_path_factory.mktemp("b") / "bundle", make_bundle(analysis))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("form", ["pickle", "joblib_zlib", "bundle_dir", "bundle_zip"])
def test_pickle_model_is_refused_without_running_it(tmp_path, marker, protocol, form,
                                                    saved_bundle):
    payload = pickle.dumps(_Payload(marker), protocol=protocol)
    manifest = (saved_bundle / "manifest.json").read_bytes()
    if form == "pickle":
        target = tmp_path / "model.pkl"
        target.write_bytes(payload)
        loads = [lambda: load_bundle(target),
                 lambda: load_bundle_bytes(payload, name="upload")]
    elif form == "joblib_zlib":  # joblib.dump(..., compress=True)
        target = tmp_path / "model.joblib"
        target.write_bytes(zlib.compress(payload))
        loads = [lambda: load_bundle(target),
                 lambda: load_bundle_bytes(target.read_bytes(), name="upload")]
    elif form == "bundle_dir":  # a pickle dressed up as model.ubj
        target = tmp_path / "bundle"
        shutil.copytree(saved_bundle, target)
        (target / "model.ubj").write_bytes(payload)
        loads = [lambda: load_bundle(target)]
    else:
        data = _zip({"model.ubj": payload, "manifest.json": manifest})
        loads = [lambda: load_bundle_bytes(data, name="bundle.zip")]
    for load in loads:
        with pytest.raises(ChurnDataError) as info:
            load()
        assert codes(info) == ["BUNDLE_PICKLE"]
    assert not marker.exists()


def test_genuine_bundle_loads_from_dir_and_zip(saved_bundle):
    loaded = load_bundle(saved_bundle)
    zipped = _zip({n: (saved_bundle / n).read_bytes() for n in ("model.ubj", "manifest.json")})
    again = load_bundle_bytes(zipped, name="b.zip")
    assert loaded.preprocessor.feature_names == again.preprocessor.feature_names


def _copy(saved: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    shutil.copytree(saved, out)
    return out


def _edit_manifest(path: Path, *, reseal: bool = False, **changes) -> None:
    """Change manifest fields; ``reseal`` also recomputes the content hash (a careful forger)."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    if reseal:
        manifest["content_sha256"] = content_digest(manifest, (path / "model.ubj").read_bytes())
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage, code", [
    ("truncate_model", "BUNDLE_MODEL_MISMATCH"),
    ("flip_model_byte", "BUNDLE_MODEL_MISMATCH"),
    ("swap_hash", "BUNDLE_MODEL_MISMATCH"),
    ("corrupt_model_with_matching_hash", "BUNDLE_CORRUPT"),
    ("wrong_version", "BUNDLE_VERSION"),
    ("foreign_format", "BUNDLE_BAD_MANIFEST"),
    ("manifest_not_json", "BUNDLE_BAD_MANIFEST"),
    ("manifest_incomplete", "BUNDLE_BAD_MANIFEST"),
    ("missing_model", "BUNDLE_NOT_FOUND"),
])
def test_damaged_bundle_directory_is_refused(saved_bundle, tmp_path, damage, code):
    path = _copy(saved_bundle, tmp_path)
    model = path / "model.ubj"
    raw = model.read_bytes()
    if damage == "truncate_model":
        model.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip_model_byte":
        model.write_bytes(raw[:100] + bytes([raw[100] ^ 0xFF]) + raw[101:])
    elif damage == "swap_hash":
        _edit_manifest(path, model_sha256=hashlib.sha256(b"other").hexdigest())
    elif damage == "corrupt_model_with_matching_hash":
        junk = b"{" + b"\x00garbage" * 50
        model.write_bytes(junk)
        _edit_manifest(path, model_sha256=hashlib.sha256(junk).hexdigest(), reseal=True)
    elif damage == "wrong_version":
        _edit_manifest(path, bundle_version=99)
    elif damage == "foreign_format":
        _edit_manifest(path, format="something-else")
    elif damage == "manifest_not_json":
        (path / "manifest.json").write_bytes(b"\xff\xfe not json")
    elif damage == "manifest_incomplete":
        manifest = json.loads((path / "manifest.json").read_text())
        del manifest["preprocessing"]
        manifest["content_sha256"] = content_digest(manifest, raw)
        (path / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "missing_model":
        model.unlink()
    with pytest.raises(ChurnDataError) as info:
        load_bundle(path)
    assert codes(info) == [code]
    assert info.value.problems[0].severity == "error"


@pytest.mark.parametrize("damage, code", [
    ("truncated_zip", "BUNDLE_CORRUPT"),
    ("extra_member", "BUNDLE_NOT_FOUND"),
    ("path_traversal", "BUNDLE_NOT_FOUND"),
    ("not_a_zip", "BUNDLE_NOT_FOUND"),
])
def test_damaged_bundle_zip_is_refused(saved_bundle, damage, code):
    parts = {n: (saved_bundle / n).read_bytes() for n in ("model.ubj", "manifest.json")}
    data = _zip(parts)
    if damage == "truncated_zip":
        data = data[: len(data) - 40]
    elif damage == "extra_member":
        data = _zip({**parts, "run_me.py": b"print('hi')"})
    elif damage == "path_traversal":
        data = _zip({"../model.ubj": parts["model.ubj"], "manifest.json": parts["manifest.json"]})
    elif damage == "not_a_zip":
        data = b'{"format": "churn-radar-bundle"}'
    with pytest.raises(ChurnDataError) as info:
        load_bundle_bytes(data, name="bundle.zip")
    assert codes(info) == [code]


def test_oversized_bundles_are_refused_before_reading(saved_bundle, tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_module, "MAX_MODEL_BYTES", 1000)
    monkeypatch.setattr(bundle_module, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(ChurnDataError) as info:
        load_bundle(saved_bundle)
    assert codes(info) == ["BUNDLE_TOO_LARGE"]
    data = _zip({n: (saved_bundle / n).read_bytes() for n in ("model.ubj", "manifest.json")})
    with pytest.raises(ChurnDataError) as info:
        load_bundle_bytes(data, name="b.zip")
    assert codes(info) == ["BUNDLE_TOO_LARGE"]
    big = tmp_path / "huge.zip"
    big.write_bytes(data + bytes(3000))
    with pytest.raises(ChurnDataError) as info:
        load_bundle(big)
    assert codes(info) == ["BUNDLE_TOO_LARGE"]


# ------------------------------------------------------------ guarded reads


def test_guarded_read_matches_the_plain_reader():
    for name in ("gbk_chinese.csv", "excel_named.csv"):
        data = (CORPUS / name).read_bytes()
        guarded, plain = read_table_guarded(data, name=name), read_table(data, name=name)
        pd.testing.assert_frame_equal(guarded.frame, plain.frame)
        assert guarded.problems == plain.problems
        assert (guarded.file_format, guarded.encoding, guarded.delimiter, guarded.header_row,
                guarded.sheet) == (plain.file_format, plain.encoding, plain.delimiter,
                                   plain.header_row, plain.sheet)


def test_guarded_read_passes_data_errors_and_options_through():
    with pytest.raises(ChurnDataError) as info:
        read_table_guarded(b"", name="empty.csv")
    assert codes(info) == ["EMPTY_FILE"]
    data = (CORPUS / "clean_train.csv").read_bytes()
    with pytest.raises(ChurnDataError) as info:
        read_table_guarded(data, name="x.csv", options=ReadOptions(max_bytes=100))
    assert codes(info) == ["TOO_LARGE"]


def test_guarded_read_times_out():
    with pytest.raises(ChurnDataError) as info:
        read_table_guarded((CORPUS / "clean_train.csv").read_bytes(), name="x.csv",
                           timeout_s=0.05)
    assert codes(info) == ["READ_TIMEOUT"]


def test_guarded_read_out_of_memory():
    with pytest.raises(ChurnDataError) as info:
        read_table_guarded((CORPUS / "clean_train.csv").read_bytes(), name="x.csv",
                           memory_mb=100)
    assert codes(info) == ["READ_OUT_OF_MEMORY"]


def test_a_crashing_child_becomes_a_data_error():
    with pytest.raises(ChurnDataError) as info:
        run_child([sys.executable, "-c", "import os; os.abort()"], name="x.csv",
                   timeout_s=30, memory_mb=512)
    assert codes(info) == ["READ_CRASHED"]


# ------------------------------------------------------------ the dashboard


def test_html_in_column_names_stays_text_in_the_library():
    source = f"customer_id,{XSS},churn\n" + "".join(
        f"C{i},{i % 7},{'Yes' if i % 3 == 0 else 'No'}\n" for i in range(80))
    check = load_and_check(source.encode(), name="xss.csv")
    assert XSS in check.read.frame.columns
    assert XSS in check.schema.features
    assert XSS in set(check.report.leakage["column"])


def test_html_in_column_names_renders_as_text_in_the_dashboard():
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from ui import state as ui_state
    from ui.state import StateKeys

    source = f"customer_id,{XSS},churn\n" + "".join(
        f"C{i},{i % 7},{'Yes' if i % 3 == 0 else 'No'}\n" for i in range(80))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in ui_state.DEFAULTS.items():
        at.session_state[key] = value
    at.switch_page("pages/data.py").run()
    at.file_uploader(key=StateKeys.W_UPLOAD).upload("xss.csv", source.encode(), "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = False
    for kind in ("markdown", "caption", "text", "info", "warning", "error", "success", "latex"):
        for el in getattr(at, kind, []):
            value = str(getattr(el, "value", getattr(el, "body", "")))
            if "<img" in value:
                shown = True
                assert not getattr(el.proto, "allow_html", False), (kind, value)
    html = [el for el in at.get("html")] if hasattr(at, "get") else []
    assert not any("<img" in str(getattr(el.proto, "body", "")) for el in html)
    frames = [el.value for el in at.dataframe]
    in_tables = any(XSS in map(str, df.columns) or df.astype(str).isin([XSS]).any().any()
                    for df in frames)
    assert shown or in_tables  # the name is shown somewhere, as text


def test_no_page_renders_html_from_user_text():
    """unsafe_allow_html / st.html appear only with constant strings, never with data."""
    offenders = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"unsafe_allow_html\s*=\s*True|st\.html\(", text):
            line = text[: match.start()].count("\n") + 1
            offenders.append(f"{path.name}:{line}")
    assert offenders == []


def test_streamlit_config_keeps_xsrf_and_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True
    assert 0 < server["maxUploadSize"] <= ReadOptions().max_bytes // 1024**2


# --------------------------------------------------------- pseudonymous ids


def test_id_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(ID_SECRET_ENV, raising=False)
    with pytest.raises(ChurnDataError) as info:
        id_secret_from_env()
    assert codes(info) == ["ID_SECRET_MISSING"]
    with pytest.raises(ChurnDataError) as info:
        id_secret_from_env(env={ID_SECRET_ENV: "short"})
    assert codes(info) == ["ID_SECRET_TOO_SHORT"]
    monkeypatch.setenv(ID_SECRET_ENV, "s3cret-s3cret-s3cret")
    assert id_secret_from_env() == b"s3cret-s3cret-s3cret"


def test_hashed_ids_are_keyed_never_a_plain_hash():
    ids = ["007", "C0001", "客户1"]
    secret = b"0123456789abcdef-secret"
    hashed = hash_ids(ids, secret).tolist()
    for raw, h in zip(ids, hashed, strict=True):
        plain = {hashlib.new(a, raw.encode()).hexdigest() for a in ("md5", "sha1", "sha256")}
        assert all(not p.startswith(h) for p in plain)
    assert hash_ids(ids, secret).tolist() == hashed
    assert hash_ids(ids, secret + b"x").tolist() != hashed
    with pytest.raises(ValueError):
        hash_ids(ids, b"")

"""Write the bad-input corpus: one small file per row of BAD_INPUTS.md, plus extras.

Run from the repository root::

    python -m tests.bad_inputs.make_corpus

It rewrites ``tests/bad_inputs/files/`` and ``tests/bad_inputs/cases.json``.
Every case is declared once, here, with the bytes of its file and its expected
outcome as data (problem codes and fields, never message text):

``stage``
    ``read`` (io.read_table), ``check`` (pipeline.load_and_check),
    ``score`` (score a file with the bundle trained on ``clean_train.csv``) or
    ``bundle`` (offer the file as a model bundle).
``outcome``
    ``stop``: the stage raises ``ChurnDataError`` (or, for ``check``, the
    result is not usable) carrying the expected error codes; ``notice``: it goes
    on and reports the expected problems.
``expect``
    Problems that must be present; each lists only the fields that matter
    (``code`` always; ``severity``, ``column``, ``rows``, ``count``, ``values``
    when given must match exactly).
``frame``
    Facts about the table read: ``rows``, ``columns`` present, ``numeric`` and
    ``text`` columns, ``values`` (first values of a column, compared as data).
``train``
    Also run train, explain, threshold, export, save, load and score on it.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import pickle
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
CASES = HERE / "cases.json"


def base_table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A clean customer table with a weak, learnable signal (AUC well below 0.95)."""
    rng = np.random.default_rng(seed)
    churned = rng.random(n) < 0.3
    return pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(1, n + 1)],
        "tenure": (rng.gamma(2.0, 6.0, n) - 5 * churned).clip(0).round().astype(int),
        "spend": (rng.normal(120, 30, n) - 25 * churned).round(2),
        "plan": rng.choice(["basic", "plus", "pro"], n),
        "complaints": (rng.random(n) < 0.1 + 0.2 * churned).astype(int),
        "churn": np.where(churned, "Yes", "No"),
    })


def csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def utf8(frame: pd.DataFrame, sep: str = ",") -> bytes:
    return csv_text(frame, sep).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_excel(buf, index=False, sheet_name="customers")
    return _fixed_zip_times(buf.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip with constant member times and metadata dates, so the corpus is stable."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


# ---------------------------------------------------------------- builders

def gbk_chinese() -> bytes:
    t = base_table(200, seed=1)
    t = t.rename(columns={"customer_id": "客户编号", "plan": "城市", "churn": "是否流失"})
    t["城市"] = t["城市"].map({"basic": "北京", "plus": "上海", "pro": "广州"})
    t["是否流失"] = np.where(t["是否流失"] == "Yes", "流失", "未流失")
    return csv_text(t).encode("gb18030")


def cp1252_text() -> bytes:
    t = base_table(60, seed=2)
    t["plan"] = t["plan"].map({"basic": "Café", "plus": "Zürich", "pro": "Crème brûlée"})
    return csv_text(t).encode("cp1252")


def utf16_tab() -> bytes:  # Excel "Unicode text": UTF-16 LE with BOM, tab separated
    return codecs.BOM_UTF16_LE + csv_text(base_table(60, seed=3), "\t").encode("utf-16-le")


def utf8_bom_header() -> bytes:
    t = base_table(60, seed=4).rename(columns={"tenure": " tenure ", "spend": "ｓｐｅｎｄ"})
    return codecs.BOM_UTF8 + utf8(t)


def delimited(sep: str) -> Callable[[], bytes]:
    return lambda: utf8(base_table(60, seed=5), sep)


def text_numbers() -> str:
    rows = ["customer_id,us,eu,yuan,pct"]
    for i in range(1, 31):
        rows.append(f'C{i:03d},"{i},234","{i}.234,50","¥{i},299",{i}%')
    return "\n".join(rows) + "\n"


def ragged() -> str:
    lines = ["customer_id,tenure,spend,churn"]
    for i in range(1, 13):
        if i in (4, 8):  # file lines 5 and 9: an unquoted comma adds fields
            lines.append(f"C{i:03d},{i},1,5,00,No")
        else:
            lines.append(f"C{i:03d},{i},{i * 10},{'Yes' if i % 3 == 0 else 'No'}")
    return "\n".join(lines) + "\n"


def mixed_numbers() -> str:
    values = [str(10 + i) for i in range(25)]
    values[2] = "abc"   # data row 3
    values[6] = "-"     # data row 7: a missing-value token
    return "customer_id,v\n" + "".join(f"C{i + 1:03d},{v}\n" for i, v in enumerate(values))


def na_tokens() -> str:
    tokens = ["NA", "null", "None", "无", "N/A"]
    lines = ["customer_id,channel"]
    for i in range(1, 21):
        value = tokens[(i - 1) // 4] if i % 4 == 1 else ["web", "app", "shop"][i % 3]
        lines.append(f"C{i:03d},{value}")
    return "\n".join(lines) + "\n"


def ids_text() -> str:
    ids = ["007", "4e492493924924", "0012", "1e5", "00000", "42"]
    return "customer_id,spend\n" + "".join(f"{v},{i + 1}.5\n" for i, v in enumerate(ids))


def zip_archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("customers.csv", csv_text(base_table(20)))
    return _fixed_zip_times(buf.getvalue())


def pdf_file() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def binary_file() -> bytes:
    return bytes(np.random.default_rng(7).integers(0, 256, 2048, dtype=np.uint8))


def old_xls() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def title_line() -> str:
    return "导出时间: 2024-05-01 10:00\n\n" + csv_text(base_table(60, seed=6))


def gzip_bomb() -> bytes:
    return gzip.compress(b"a,b\n" + b"1,2\n" * 50_000, mtime=0)  # 200 kB inside, 1 kB outside


def truncated_xlsx() -> bytes:
    data = xlsx_bytes(base_table(40))
    return data[: len(data) // 2]


def unbalanced_quotes() -> str:
    return ('customer_id,note,spend\nC001,"fine,1\nC002,ok,2\nC003,ok,3\n'
            'C004,ok,4\nC005,ok,5\n')


def with_column(name: str, make: Callable[[pd.DataFrame, np.random.Generator], Any],
                n: int = 200, seed: int = 10) -> Callable[[], bytes]:
    def build() -> bytes:
        t = base_table(n, seed=seed)
        t.insert(len(t.columns) - 1, name, make(t, np.random.default_rng(seed)))
        return utf8(t)
    return build


def duplicate_header() -> str:
    t = base_table(60, seed=11)
    text = csv_text(t)
    return text.replace("complaints", "spend", 1)


def duplicate_ids() -> bytes:
    t = base_table(300, seed=12)
    t.loc[250:, "customer_id"] = t.loc[:49, "customer_id"].to_numpy()  # 50 ids seen twice
    return utf8(t)


def duplicate_profiles() -> bytes:
    t = base_table(200, seed=13)
    copy = t.iloc[:20].copy()
    copy["customer_id"] = [f"D{i:04d}" for i in range(20)]
    return utf8(pd.concat([t, copy], ignore_index=True))


def missing_and_constant() -> bytes:
    t = base_table(120, seed=14)
    t.insert(3, "notes", "")
    t.insert(3, "country", "CN")
    return utf8(t)


def dates_text() -> bytes:
    t = base_table(120, seed=15)
    days = np.random.default_rng(15).integers(0, 700, len(t))
    dates = pd.Timestamp("2022-01-01") + pd.to_timedelta(days, unit="D")
    t.insert(3, "signup", dates.strftime("%Y-%m-%d"))  # some after the 2023-06-30 snapshot
    return utf8(t)


def inf_values() -> bytes:
    t = base_table(60, seed=16)
    t["spend"] = t["spend"].astype(str)
    t.loc[[2, 9], "spend"] = ["inf", "1e400"]
    return utf8(t)


def label_values(pos: str, neg: str, *, seed: int = 20) -> Callable[[], bytes]:
    def build() -> bytes:
        t = base_table(120, seed=seed)
        t["churn"] = np.where(t["churn"] == "Yes", pos, neg)
        return utf8(t)
    return build


def label_three() -> bytes:
    t = base_table(120, seed=21)
    t.loc[::7, "churn"] = "Maybe"
    return utf8(t)


def missing_labels() -> bytes:
    t = base_table(300, seed=22)
    t.loc[[4, 9, 14, 19, 24, 29], "churn"] = ""
    return utf8(t)


def one_class() -> bytes:
    t = base_table(100, seed=23)
    t["churn"] = "No"
    return utf8(t)


def few_positives(k: int, n: int) -> Callable[[], bytes]:
    def build() -> bytes:
        t = base_table(n, seed=24)
        t["churn"] = "No"
        t.loc[np.arange(k) * (n // k), "churn"] = "Yes"
        return utf8(t)
    return build


def leaky_copy(t: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    copy = (t["churn"] == "Yes").to_numpy().astype(int)
    flip = rng.choice(len(t), size=1, replace=False)
    copy[flip] = 1 - copy[flip]
    return copy


def cancel_reason(t: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    reasons = rng.choice(["price", "service", "moved"], len(t))
    return np.where(t["churn"] == "Yes", reasons, "")


def survey_missing(t: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    churned = (t["churn"] == "Yes").to_numpy()
    blank = np.where(churned, rng.random(len(t)) < 0.95, rng.random(len(t)) < 0.02)
    return np.where(blank, "", rng.integers(1, 6, len(t)).astype(str))


def high_cardinality(t: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    return [f"store{k}" for k in rng.integers(0, 120, len(t))]


def spellings(t: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(["CC", "Credit Card", "Debit Card", "UPI"], len(t))


def personal_data() -> bytes:
    t = base_table(300, seed=30)
    rng = np.random.default_rng(30)
    first = rng.choice(["Wei", "Anna", "Li", "Tom", "Mei", "Jan", "Olga", "Raj", "Ana", "Kim",
                        "Lu", "Max"], len(t))
    t.insert(1, "full_name", [f"{f} Tester{i}" for i, f in enumerate(first)])
    t.insert(2, "email", [f"user{i}@example.com" for i in range(len(t))])
    t.insert(3, "phone", [f"+86 138 {i:04d} {i * 7 % 10000:04d}" for i in range(len(t))])
    t.insert(4, "address", [f"{i} Example Road, Shanghai" for i in range(len(t))])
    return utf8(t)


def formula_cells() -> bytes:
    t = base_table(200, seed=31)
    evil = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
            "\tTAB", "\rCR"]
    t.loc[: len(evil) - 1, "customer_id"] = evil
    t["plan"] = t["plan"].where(t.index % 5 != 0, "=1+1")
    return utf8(t)


def renamed_columns() -> bytes:
    t = base_table(50, seed=40).rename(columns={"tenure": "Tenure ", "spend": "SPEND"})
    return utf8(t)


def missing_columns() -> bytes:
    return utf8(base_table(50, seed=41).drop(columns=["tenure", "plan"]))


def extra_columns() -> bytes:
    t = base_table(50, seed=42)
    t["newsletter"] = "yes"
    t["region"] = "north"
    return utf8(t)


def reordered_columns() -> bytes:
    t = base_table(50, seed=43)
    return utf8(t[t.columns[::-1]])


def unseen_level() -> bytes:
    t = base_table(50, seed=44)
    t.loc[[0, 3], "plan"] = "enterprise"
    return utf8(t)


def type_changed() -> bytes:
    t = base_table(50, seed=45)
    t["spend"] = t["spend"].astype(str)
    t.loc[[1, 2, 5], "spend"] = ["lots", "n/k", "?x"]
    return utf8(t)


class _Harmless:
    """Pickled as a call to ``str`` with a marker: proves the refusal, does nothing."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (str, ("this pickle would run code",))


def pickle_model() -> bytes:
    return pickle.dumps({"model": _Harmless()}, protocol=4)


def pickle_protocol0() -> bytes:
    return pickle.dumps({"model": "xgb"}, protocol=0)


def joblib_like() -> bytes:
    # joblib.dump(model, "m.joblib", compress=3) writes a zlib stream of a pickle
    import zlib

    return zlib.compress(pickle.dumps({"model": "xgb"}, protocol=4))


def zip_with_pickle() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.pkl", pickle.dumps({"model": "xgb"}))
    return _fixed_zip_times(buf.getvalue())


# ------------------------------------------------------------------- cases

def P(code: str, **fields: Any) -> dict[str, Any]:  # noqa: N802 - reads as a table row
    return {"code": code, **fields}


CASES_SPEC: list[dict[str, Any]] = [
    # --- Reading the file
    dict(id="gbk_text", file="gbk_chinese.csv", build=gbk_chinese, stage="check",
         outcome="notice", bad_inputs="GBK / GB18030 text", train=True,
         expect=[P("ENCODING_DETECTED", values=["gb18030"]),
                 P("LABEL_MAPPED", column="是否流失", values=["流失"]),
                 P("ID_DETECTED", column="客户编号")],
         frame={"rows": 200, "columns": ["客户编号", "城市", "是否流失"]}),
    dict(id="cp1252_text", file="cp1252.csv", build=cp1252_text, stage="read", outcome="notice",
         bad_inputs="Latin-1 / cp1252", expect=[P("ENCODING_DETECTED", values=["cp1252"])],
         frame={"rows": 60, "contains": {"plan": "Zürich"}}),
    dict(id="utf16_tab", file="utf16_unicode_text.txt", build=utf16_tab, stage="read",
         outcome="notice", bad_inputs="UTF-16 (Excel Unicode text)",
         expect=[P("ENCODING_DETECTED", values=["utf-16"]),
                 P("DELIMITER_DETECTED", values=["\t"])],
         frame={"rows": 60, "numeric": ["tenure", "spend"]}),
    dict(id="utf8_bom", file="utf8_bom.csv", build=utf8_bom_header, stage="read",
         outcome="notice", bad_inputs="UTF-8 BOM",
         expect=[P("ENCODING_DETECTED", values=["utf-8-sig"]), P("HEADER_NORMALISED", count=2)],
         frame={"rows": 60, "columns": ["customer_id", "tenure", "spend"]}),
    dict(id="semicolon", file="semicolon.csv", build=delimited(";"), stage="read",
         outcome="notice", bad_inputs="; delimiter", expect=[P("DELIMITER_DETECTED", values=[";"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="tab", file="tab.tsv", build=delimited("\t"), stage="read", outcome="notice",
         bad_inputs="tab delimiter", expect=[P("DELIMITER_DETECTED", values=["\t"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="pipe", file="pipe.txt", build=delimited("|"), stage="read", outcome="notice",
         bad_inputs="| delimiter", expect=[P("DELIMITER_DETECTED", values=["|"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="text_numbers", file="text_numbers.csv", build=text_numbers, stage="read",
         outcome="notice", bad_inputs="1.234,50 / \"1,234\" / ¥1,299 / 12%",
         expect=[P("NUMBERS_CONVERTED", column=c, count=30) for c in ("us", "eu", "yuan", "pct")],
         frame={"rows": 30, "numeric": ["us", "eu", "yuan", "pct"],
                "values": {"us": [1234.0, 2234.0], "eu": [1234.5, 2234.5],
                           "yuan": [1299.0, 2299.0], "pct": [1.0, 2.0]}}),
    dict(id="ragged", file="ragged.csv", build=ragged, stage="read", outcome="notice",
         bad_inputs="ragged rows",
         expect=[P("RAGGED_ROWS", severity="warning", rows=[5, 9], count=2)],
         frame={"rows": 10}),
    dict(id="empty", file="empty.csv", build=lambda: b"", stage="read", outcome="stop",
         bad_inputs="empty file", expect=[P("EMPTY_FILE", severity="error")]),
    dict(id="blank_lines", file="blank_lines.csv", build=lambda: b"\n \r\n\t\n", stage="read",
         outcome="stop", bad_inputs="empty file (whitespace only)", expect=[P("EMPTY_FILE")]),
    dict(id="header_only", file="header_only.csv", build=lambda: "customer_id,tenure,churn\n",
         stage="read", outcome="stop", bad_inputs="header only",
         expect=[P("NO_DATA_ROWS", severity="error")]),
    dict(id="duplicate_header", file="duplicate_header.csv", build=duplicate_header,
         stage="read", outcome="notice", bad_inputs="duplicate header names",
         expect=[P("DUPLICATE_HEADER", severity="warning", column="spend", count=2,
                   values=["spend (2)"])],
         frame={"columns": ["spend", "spend (2)"]}),
    dict(id="mixed_numbers", file="mixed_numbers.csv", build=mixed_numbers, stage="read",
         outcome="notice", bad_inputs="a column with 10, abc, -",
         expect=[P("NOT_NUMBERS", severity="warning", column="v", rows=[3], count=1,
                   values=["abc"]),
                 P("MISSING_TOKENS", column="v", rows=[7], count=1, values=["-"])],
         frame={"rows": 25, "numeric": ["v"]}),
    dict(id="na_tokens", file="na_tokens.csv", build=na_tokens, stage="read", outcome="notice",
         bad_inputs="NA, null, None, -, 无, N/A",
         expect=[P("MISSING_TOKENS", column="channel", rows=[1, 5, 9, 13, 17], count=5)],
         frame={"rows": 20, "missing": {"channel": 5}}),
    dict(id="ids_text", file="ids_007.csv", build=ids_text, stage="read", outcome="notice",
         bad_inputs="IDs like 007 or 4e492493924924",
         expect=[P("KEPT_AS_TEXT", column="customer_id")],
         frame={"text": ["customer_id"],
                "values": {"customer_id": ["007", "4e492493924924", "0012", "1e5", "00000",
                                           "42"]}}),
    dict(id="xlsx_named_csv", file="excel_named.csv", build=lambda: xlsx_bytes(base_table(40)),
         stage="read", outcome="notice", bad_inputs="an .xlsx renamed .csv",
         expect=[P("FORMAT_MISMATCH", severity="info")],
         frame={"rows": 40, "format": "excel", "columns": ["customer_id", "churn"]}),
    dict(id="zip_archive", file="archive.csv", build=zip_archive, stage="read", outcome="stop",
         bad_inputs="zip", expect=[P("BINARY_FILE", severity="error")]),
    dict(id="pdf", file="report.csv", build=pdf_file, stage="read", outcome="stop",
         bad_inputs="binary (PDF)", expect=[P("BINARY_FILE")]),
    dict(id="binary", file="random.csv", build=binary_file, stage="read", outcome="stop",
         bad_inputs="binary", expect=[P("BINARY_FILE")]),
    dict(id="old_xls", file="old.xls", build=old_xls, stage="read", outcome="stop",
         bad_inputs="binary (old .xls)", expect=[P("OLD_EXCEL")]),
    dict(id="truncated_xlsx", file="truncated.xlsx", build=truncated_xlsx, stage="read",
         outcome="stop", bad_inputs="extra: damaged workbook",
         expect=[P("BINARY_FILE")]),
    dict(id="title_line", file="title_line.csv", build=title_line, stage="read",
         outcome="notice", bad_inputs="a title line above the header",
         expect=[P("HEADER_SKIPPED_LINES", count=1, values=["导出时间: 2024-05-01 10:00"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="too_large", file="too_large.csv", build=lambda: utf8(base_table(60)),
         stage="read", outcome="stop", bad_inputs="a very large file",
         read_options={"max_bytes": 1000}, expect=[P("TOO_LARGE", severity="error")]),
    dict(id="gzip_bomb", file="bomb.csv.gz", build=gzip_bomb, stage="read", outcome="stop",
         bad_inputs="extra: a very large file inside gzip", read_options={"max_bytes": 10_000},
         expect=[P("TOO_LARGE")]),
    dict(id="unbalanced_quotes", file="unbalanced_quotes.csv", build=unbalanced_quotes,
         stage="read", outcome="notice", bad_inputs="extra: a quote never closed",
         expect=[P("UNBALANCED_QUOTES", severity="warning")], frame={"rows": 5}),
    # --- The table
    dict(id="duplicate_ids", file="duplicate_ids.csv", build=duplicate_ids, stage="check",
         outcome="notice", bad_inputs="duplicate customer ids", train=True,
         expect=[P("DUPLICATE_IDS", severity="warning", column="customer_id", rows=[1, 2, 3, 4, 5],
                   count=100)]),
    dict(id="duplicate_profiles", file="duplicate_profiles.csv", build=duplicate_profiles,
         stage="check", outcome="notice", bad_inputs="rows identical apart from the id",
         expect=[P("DUPLICATE_PROFILES", severity="warning")]),
    dict(id="missing_constant", file="missing_constant.csv", build=missing_and_constant,
         stage="check", outcome="notice", bad_inputs="all-missing or constant column",
         expect=[P("ALL_MISSING_EXCLUDED", column="notes"),
                 P("CONSTANT_EXCLUDED", column="country")],
         excluded={"notes": "ALL_MISSING", "country": "CONSTANT"}),
    dict(id="id_like", file="id_like.csv",
         build=with_column("row_number", lambda t, r: np.arange(1, len(t) + 1)),
         stage="check", outcome="notice", bad_inputs="id-like column left among features",
         expect=[P("ID_LIKE_EXCLUDED", column="row_number")], excluded={"row_number": "ID_LIKE"}),
    dict(id="dates_text", file="dates_text.csv", build=dates_text, stage="check",
         outcome="notice", bad_inputs="dates stored as text",
         overrides={"snapshot_date": "2023-06-30"},
         expect=[P("DATES_PARSED", column="signup"),
                 P("DATES_AFTER_SNAPSHOT", severity="warning", column="signup")],
         schema={"datetime": ["signup"]}),
    dict(id="inf_values", file="inf_values.csv", build=inf_values, stage="read",
         outcome="notice", bad_inputs="inf, 1e400",
         expect=[P("INF_VALUES", severity="warning", column="spend", rows=[3, 10], count=2,
                   values=["inf", "1e400"])],
         frame={"numeric": ["spend"], "missing": {"spend": 2}}),
    dict(id="high_cardinality", file="high_cardinality.csv",
         build=with_column("store", high_cardinality, n=300), stage="check", outcome="notice",
         bad_inputs="text categories, high cardinality",
         expect=[P("HIGH_CARDINALITY", severity="warning", column="store")],
         schema={"categorical": ["store"]}),
    dict(id="spellings", file="spellings.csv", build=with_column("payment", spellings),
         stage="check", outcome="notice", bad_inputs="inconsistent spellings (CC / Credit Card)",
         expect=[P("INCONSISTENT_SPELLINGS", column="payment")]),
    # --- The label
    *[dict(id=f"label_{key}", file=f"label_{key}.csv", build=label_values(pos, neg),
           stage="check", outcome="notice", bad_inputs=f"label {pos}/{neg}",
           expect=[P("LABEL_MAPPED", column="churn", values=[pos])])
      for key, pos, neg in (("yes_no", "Yes", "No"), ("true_false", "True", "False"),
                            ("y_n", "Y", "N"), ("shi_fou", "是", "否"),
                            ("liushi", "流失", "未流失"), ("churned_active", "churned", "active"))],
    dict(id="label_1_2", file="label_1_2.csv", build=label_values("2", "1"), stage="check",
         outcome="stop", bad_inputs="label 1/2 (ambiguous)",
         expect=[P("LABEL_AMBIGUOUS", severity="error", column="churn")]),
    dict(id="label_1_2_chosen", file="label_1_2.csv", build=label_values("2", "1"),
         stage="check", outcome="notice", bad_inputs="label 1/2 with positive_value",
         overrides={"positive_value": "2"}, expect=[P("LABEL_MAPPED", values=["2"])]),
    dict(id="label_three", file="label_three.csv", build=label_three, stage="check",
         outcome="stop", bad_inputs="more than two label values",
         expect=[P("LABEL_MANY_VALUES", severity="error", column="churn", count=3)]),
    dict(id="missing_labels", file="missing_labels.csv", build=missing_labels, stage="check",
         outcome="notice", bad_inputs="missing labels", train=True,
         expect=[P("LABEL_MISSING", severity="warning", column="churn", rows=[5, 10, 15, 20, 25],
                   count=6)]),
    dict(id="one_class", file="one_class.csv", build=one_class, stage="check", outcome="stop",
         bad_inputs="only one class",
         expect=[P("LABEL_ONE_CLASS", severity="error", column="churn", values=["No"])]),
    dict(id="too_few_positives", file="too_few_positives.csv", build=few_positives(5, 300),
         stage="check", outcome="stop", bad_inputs="extreme imbalance (a handful of churners)",
         expect=[P("TOO_FEW_POSITIVES", severity="error"), P("CLASS_IMBALANCE")]),
    dict(id="imbalance", file="imbalance.csv", build=few_positives(12, 400), stage="check",
         outcome="notice", bad_inputs="extreme imbalance (warn)",
         expect=[P("CLASS_IMBALANCE", severity="warning"), P("CLASS_COUNTS", count=400)]),
    dict(id="leak_copy", file="leak_copy.csv", build=with_column("account_flag", leaky_copy),
         stage="check", outcome="notice", bad_inputs="a column that predicts the label",
         expect=[P("LEAKAGE_EXCLUDED", column="account_flag")],
         excluded={"account_flag": "LEAKAGE"}),
    dict(id="leak_name", file="leak_name.csv", build=with_column("cancel_reason", cancel_reason),
         stage="check", outcome="notice", bad_inputs="names like cancel/churn/reason",
         expect=[P("LEAKY_NAME", column="cancel_reason")]),
    dict(id="leak_missing", file="leak_missing.csv",
         build=with_column("last_survey", survey_missing), stage="check", outcome="notice",
         bad_inputs="extra: missingness that encodes the label",
         expect=[P("MISSING_ENCODES_LABEL", column="last_survey")]),
    # --- Scoring new data with a saved model
    dict(id="score_reordered", file="score_reordered.csv", build=reordered_columns,
         stage="score", outcome="notice", bad_inputs="columns reordered", expect=[],
         same_scores_as="score_ordered"),
    dict(id="score_missing", file="score_missing_columns.csv", build=missing_columns,
         stage="score", outcome="stop", bad_inputs="columns missing",
         expect=[P("MISSING_COLUMNS", severity="error", column="tenure"),
                 P("MISSING_COLUMNS", severity="error", column="plan")]),
    dict(id="score_extra", file="score_extra_columns.csv", build=extra_columns, stage="score",
         outcome="notice", bad_inputs="extra columns",
         expect=[P("EXTRA_COLUMNS", severity="info", count=2, values=["newsletter", "region"])]),
    dict(id="score_renamed", file="score_renamed.csv", build=renamed_columns, stage="score",
         outcome="notice", bad_inputs="renamed (case, spaces)",
         expect=[P("RENAMED_COLUMN", column="tenure", values=["Tenure"]),
                 P("RENAMED_COLUMN", column="spend", values=["SPEND"])]),
    dict(id="score_unseen", file="score_unseen_level.csv", build=unseen_level, stage="score",
         outcome="notice", bad_inputs="unseen category levels",
         expect=[P("UNSEEN_CATEGORY", column="plan", count=2, values=["enterprise"])]),
    dict(id="score_type_changed", file="score_type_changed.csv", build=type_changed,
         stage="score", outcome="notice", bad_inputs="dtype changed",
         expect=[P("MOSTLY_NUMBERS", column="spend", rows=[2, 3, 6], count=3),
                 P("NOT_NUMBERS", column="spend", count=3)]),
    dict(id="score_ordered", file="score_ordered.csv", build=lambda: utf8(base_table(50, 43)),
         stage="score", outcome="notice", bad_inputs="(reference for reordered)", expect=[]),
    # --- Model files
    dict(id="pickle_model", file="model.pkl", build=pickle_model, stage="bundle",
         outcome="stop", bad_inputs="a pickle \"model\" file", expect=[P("BUNDLE_PICKLE")]),
    dict(id="pickle_protocol0", file="model_p0.pkl", build=pickle_protocol0, stage="bundle",
         outcome="stop", bad_inputs="extra: a text-protocol pickle", expect=[P("BUNDLE_PICKLE")]),
    dict(id="joblib_model", file="model.joblib", build=joblib_like, stage="bundle",
         outcome="stop", bad_inputs="a joblib \"model\" file (compressed)",
         expect=[P("BUNDLE_PICKLE")]),
    dict(id="zip_with_pickle", file="bundle_with_pickle.zip", build=zip_with_pickle,
         stage="bundle", outcome="stop", bad_inputs="extra: a zip holding a pickle",
         expect=[P("BUNDLE_NOT_FOUND")]),
    # --- Exporting (checked on the trained cases: escaping, BOM, personal data)
    dict(id="formula_cells", file="formula_cells.csv", build=formula_cells, stage="check",
         outcome="notice", bad_inputs="text cells starting with = + - @ tab CR NUL", train=True,
         expect=[]),
    dict(id="personal_data", file="personal_data.csv", build=personal_data, stage="check",
         outcome="notice", bad_inputs="personal identifiers", train=True,
         expect=[P("PERSONAL_DATA_EXCLUDED", column=c)
                 for c in ("full_name", "email", "phone", "address")],
         excluded={"full_name": "PERSONAL_DATA", "email": "PERSONAL_DATA",
                   "phone": "PERSONAL_DATA", "address": "PERSONAL_DATA"}),
    dict(id="clean_train", file="clean_train.csv", build=lambda: utf8(base_table(400, 99)),
         stage="check", outcome="notice", bad_inputs="(the clean table the score cases use)",
         expect=[P("LABEL_MAPPED", column="churn", values=["Yes"])]),
]


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    cases = []
    for spec in CASES_SPEC:
        spec = dict(spec)
        data = spec.pop("build")()
        if isinstance(data, str):
            data = data.encode("utf-8")
        (FILES / spec["file"]).write_bytes(data)
        cases.append(spec)
    CASES.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

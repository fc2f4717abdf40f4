"""Builders of the bad-input corpus files (bytes or text), used by :mod:`make_corpus`."""

from __future__ import annotations

import codecs
import gzip
import io
import pickle
import re
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


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

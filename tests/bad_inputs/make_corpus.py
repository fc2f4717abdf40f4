"""Write the bad-input corpus: one small file per row of BAD_INPUTS.md, plus extras.

Run from the repository root::

    python -m tests.bad_inputs.make_corpus

It rewrites ``tests/bad_inputs/files/`` and ``tests/bad_inputs/cases.json``.
Every case is declared once, here, with the bytes of its file (built by
:mod:`tests.bad_inputs.builders`) and its expected
outcome as data (problem codes and fields, never message text):

``stage``
    ``read`` (io.read_table), ``check`` (pipeline.load_and_check),
    ``score`` (score a file with the bundle trained on ``clean_train.csv``),
    ``bundle`` (offer the file as a model bundle) or ``events`` (an event log:
    propose the mapping, stage it and build the tables).
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

import json
from pathlib import Path
from typing import Any

import numpy as np

from tests.bad_inputs import builders as b
from tests.bad_inputs import builders_round2 as r2

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
CASES = HERE / "cases.json"

# ------------------------------------------------------------------- cases

def P(code: str, **fields: Any) -> dict[str, Any]:  # noqa: N802 - reads as a table row
    return {"code": code, **fields}


CASES_SPEC: list[dict[str, Any]] = [
    # --- Reading the file
    dict(id="gbk_text", file="gbk_chinese.csv", build=b.gbk_chinese, stage="check",
         outcome="notice", bad_inputs="GBK / GB18030 text", train=True,
         expect=[P("ENCODING_DETECTED", values=["gb18030"]),
                 P("LABEL_MAPPED", column="是否流失", values=["流失"]),
                 P("ID_DETECTED", column="客户编号")],
         frame={"rows": 200, "columns": ["客户编号", "城市", "是否流失"]}),
    dict(id="cp1252_text", file="cp1252.csv", build=b.cp1252_text, stage="read", outcome="notice",
         bad_inputs="Latin-1 / cp1252", expect=[P("ENCODING_DETECTED", values=["cp1252"])],
         frame={"rows": 60, "contains": {"plan": "Zürich"}}),
    dict(id="utf16_tab", file="utf16_unicode_text.txt", build=b.utf16_tab, stage="read",
         outcome="notice", bad_inputs="UTF-16 (Excel Unicode text)",
         expect=[P("ENCODING_DETECTED", values=["utf-16"]),
                 P("DELIMITER_DETECTED", values=["\t"])],
         frame={"rows": 60, "numeric": ["tenure", "spend"]}),
    dict(id="utf8_bom", file="utf8_bom.csv", build=b.utf8_bom_header, stage="read",
         outcome="notice", bad_inputs="UTF-8 BOM",
         expect=[P("ENCODING_DETECTED", values=["utf-8-sig"]), P("HEADER_NORMALISED", count=2)],
         frame={"rows": 60, "columns": ["customer_id", "tenure", "spend"]}),
    dict(id="semicolon", file="semicolon.csv", build=b.delimited(";"), stage="read",
         outcome="notice", bad_inputs="; delimiter", expect=[P("DELIMITER_DETECTED", values=[";"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="tab", file="tab.tsv", build=b.delimited("\t"), stage="read", outcome="notice",
         bad_inputs="tab delimiter", expect=[P("DELIMITER_DETECTED", values=["\t"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="pipe", file="pipe.txt", build=b.delimited("|"), stage="read", outcome="notice",
         bad_inputs="| delimiter", expect=[P("DELIMITER_DETECTED", values=["|"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="text_numbers", file="text_numbers.csv", build=b.text_numbers, stage="read",
         outcome="notice", bad_inputs="1.234,50 / \"1,234\" / ¥1,299 / 12%",
         expect=[P("NUMBERS_CONVERTED", column=c, count=30) for c in ("us", "eu", "yuan", "pct")],
         frame={"rows": 30, "numeric": ["us", "eu", "yuan", "pct"],
                "values": {"us": [1234.0, 2234.0], "eu": [1234.5, 2234.5],
                           "yuan": [1299.0, 2299.0], "pct": [1.0, 2.0]}}),
    dict(id="ragged", file="ragged.csv", build=b.ragged, stage="read", outcome="notice",
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
    dict(id="duplicate_header", file="duplicate_header.csv", build=b.duplicate_header,
         stage="read", outcome="notice", bad_inputs="duplicate header names",
         expect=[P("DUPLICATE_HEADER", severity="warning", column="spend", count=2,
                   values=["spend (2)"])],
         frame={"columns": ["spend", "spend (2)"]}),
    dict(id="mixed_numbers", file="mixed_numbers.csv", build=b.mixed_numbers, stage="read",
         outcome="notice", bad_inputs="a column with 10, abc, -",
         expect=[P("NOT_NUMBERS", severity="warning", column="v", rows=[3], count=1,
                   values=["abc"]),
                 P("MISSING_TOKENS", column="v", rows=[7], count=1, values=["-"])],
         frame={"rows": 25, "numeric": ["v"]}),
    dict(id="na_tokens", file="na_tokens.csv", build=b.na_tokens, stage="read", outcome="notice",
         bad_inputs="NA, null, None, -, 无, N/A",
         expect=[P("MISSING_TOKENS", column="channel", rows=[1, 5, 9, 13, 17], count=5)],
         frame={"rows": 20, "missing": {"channel": 5}}),
    dict(id="ids_text", file="ids_007.csv", build=b.ids_text, stage="read", outcome="notice",
         bad_inputs="IDs like 007 or 4e492493924924",
         expect=[P("KEPT_AS_TEXT", column="customer_id")],
         frame={"text": ["customer_id"],
                "values": {"customer_id": ["007", "4e492493924924", "0012", "1e5", "00000",
                                           "42"]}}),
    dict(id="xlsx_named_csv", file="excel_named.csv", build=lambda: b.xlsx_bytes(b.base_table(40)),
         stage="read", outcome="notice", bad_inputs="an .xlsx renamed .csv",
         expect=[P("FORMAT_MISMATCH", severity="info")],
         frame={"rows": 40, "format": "excel", "columns": ["customer_id", "churn"]}),
    dict(id="zip_archive", file="archive.csv", build=b.zip_archive, stage="read", outcome="stop",
         bad_inputs="zip", expect=[P("BINARY_FILE", severity="error")]),
    dict(id="pdf", file="report.csv", build=b.pdf_file, stage="read", outcome="stop",
         bad_inputs="binary (PDF)", expect=[P("BINARY_FILE")]),
    dict(id="binary", file="random.csv", build=b.binary_file, stage="read", outcome="stop",
         bad_inputs="binary", expect=[P("BINARY_FILE")]),
    dict(id="old_xls", file="old.xls", build=b.old_xls, stage="read", outcome="stop",
         bad_inputs="binary (old .xls)", expect=[P("OLD_EXCEL")]),
    dict(id="truncated_xlsx", file="truncated.xlsx", build=b.truncated_xlsx, stage="read",
         outcome="stop", bad_inputs="extra: damaged workbook",
         expect=[P("BINARY_FILE")]),
    dict(id="title_line", file="title_line.csv", build=b.title_line, stage="read",
         outcome="notice", bad_inputs="a title line above the header",
         expect=[P("HEADER_SKIPPED_LINES", count=1, values=["导出时间: 2024-05-01 10:00"])],
         frame={"rows": 60, "columns": ["customer_id", "churn"]}),
    dict(id="too_large", file="too_large.csv", build=lambda: b.utf8(b.base_table(60)),
         stage="read", outcome="stop", bad_inputs="a very large file",
         read_options={"max_bytes": 1000}, expect=[P("TOO_LARGE", severity="error")]),
    dict(id="gzip_bomb", file="bomb.csv.gz", build=b.gzip_bomb, stage="read", outcome="stop",
         bad_inputs="extra: a very large file inside gzip", read_options={"max_bytes": 10_000},
         expect=[P("TOO_LARGE")]),
    dict(id="unbalanced_quotes", file="unbalanced_quotes.csv", build=b.unbalanced_quotes,
         stage="read", outcome="notice", bad_inputs="extra: a quote never closed",
         expect=[P("UNBALANCED_QUOTES", severity="warning")], frame={"rows": 5}),
    # --- The table
    dict(id="duplicate_ids", file="duplicate_ids.csv", build=b.duplicate_ids, stage="check",
         outcome="notice", bad_inputs="duplicate customer ids", train=True,
         expect=[P("DUPLICATE_IDS", severity="warning", column="customer_id", rows=[1, 2, 3, 4, 5],
                   count=100)]),
    dict(id="duplicate_profiles", file="duplicate_profiles.csv", build=b.duplicate_profiles,
         stage="check", outcome="notice", bad_inputs="rows identical apart from the id",
         expect=[P("DUPLICATE_PROFILES", severity="warning")]),
    dict(id="missing_constant", file="missing_constant.csv", build=b.missing_and_constant,
         stage="check", outcome="notice", bad_inputs="all-missing or constant column",
         expect=[P("ALL_MISSING_EXCLUDED", column="notes"),
                 P("CONSTANT_EXCLUDED", column="country")],
         excluded={"notes": "ALL_MISSING", "country": "CONSTANT"}),
    dict(id="id_like", file="id_like.csv",
         build=b.with_column("row_number", lambda t, r: np.arange(1, len(t) + 1)),
         stage="check", outcome="notice", bad_inputs="id-like column left among features",
         expect=[P("ID_LIKE_EXCLUDED", column="row_number")], excluded={"row_number": "ID_LIKE"}),
    dict(id="dates_text", file="dates_text.csv", build=b.dates_text, stage="check",
         outcome="notice", bad_inputs="dates stored as text",
         overrides={"snapshot_date": "2023-06-30"},
         expect=[P("DATES_PARSED", column="signup"),
                 P("DATES_AFTER_SNAPSHOT", severity="warning", column="signup")],
         schema={"datetime": ["signup"]}),
    dict(id="inf_values", file="inf_values.csv", build=b.inf_values, stage="read",
         outcome="notice", bad_inputs="inf, 1e400",
         expect=[P("INF_VALUES", severity="warning", column="spend", rows=[3, 10], count=2,
                   values=["inf", "1e400"])],
         frame={"numeric": ["spend"], "missing": {"spend": 2}}),
    dict(id="high_cardinality", file="high_cardinality.csv",
         build=b.with_column("store", b.high_cardinality, n=300), stage="check", outcome="notice",
         bad_inputs="text categories, high cardinality",
         expect=[P("HIGH_CARDINALITY", severity="warning", column="store")],
         schema={"categorical": ["store"]}),
    dict(id="spellings", file="spellings.csv", build=b.with_column("payment", b.spellings),
         stage="check", outcome="notice", bad_inputs="inconsistent spellings (CC / Credit Card)",
         expect=[P("INCONSISTENT_SPELLINGS", column="payment")]),
    # --- The label
    *[dict(id=f"label_{key}", file=f"label_{key}.csv", build=b.label_values(pos, neg),
           stage="check", outcome="notice", bad_inputs=f"label {pos}/{neg}",
           expect=[P("LABEL_MAPPED", column="churn", values=[pos])])
      for key, pos, neg in (("yes_no", "Yes", "No"), ("true_false", "True", "False"),
                            ("y_n", "Y", "N"), ("shi_fou", "是", "否"),
                            ("liushi", "流失", "未流失"), ("churned_active", "churned", "active"))],
    dict(id="label_1_2", file="label_1_2.csv", build=b.label_values("2", "1"), stage="check",
         outcome="stop", bad_inputs="label 1/2 (ambiguous)",
         expect=[P("LABEL_AMBIGUOUS", severity="error", column="churn")]),
    dict(id="label_1_2_chosen", file="label_1_2.csv", build=b.label_values("2", "1"),
         stage="check", outcome="notice", bad_inputs="label 1/2 with positive_value",
         overrides={"positive_value": "2"}, expect=[P("LABEL_MAPPED", values=["2"])]),
    dict(id="label_three", file="label_three.csv", build=b.label_three, stage="check",
         outcome="stop", bad_inputs="more than two label values",
         expect=[P("LABEL_MANY_VALUES", severity="error", column="churn", count=3)]),
    dict(id="missing_labels", file="missing_labels.csv", build=b.missing_labels, stage="check",
         outcome="notice", bad_inputs="missing labels", train=True,
         expect=[P("LABEL_MISSING", severity="warning", column="churn", rows=[5, 10, 15, 20, 25],
                   count=6)]),
    dict(id="one_class", file="one_class.csv", build=b.one_class, stage="check", outcome="stop",
         bad_inputs="only one class",
         expect=[P("LABEL_ONE_CLASS", severity="error", column="churn", values=["No"])]),
    dict(id="too_few_positives", file="too_few_positives.csv", build=b.few_positives(5, 300),
         stage="check", outcome="stop", bad_inputs="extreme imbalance (a handful of churners)",
         expect=[P("TOO_FEW_POSITIVES", severity="error"), P("CLASS_IMBALANCE")]),
    dict(id="imbalance", file="imbalance.csv", build=b.few_positives(12, 400), stage="check",
         outcome="notice", bad_inputs="extreme imbalance (warn)",
         expect=[P("CLASS_IMBALANCE", severity="warning"), P("CLASS_COUNTS", count=400)]),
    dict(id="leak_copy", file="leak_copy.csv", build=b.with_column("account_flag", b.leaky_copy),
         stage="check", outcome="notice", bad_inputs="a column that predicts the label",
         expect=[P("LEAKAGE_EXCLUDED", column="account_flag")],
         excluded={"account_flag": "LEAKAGE"}),
    dict(id="leak_name", file="leak_name.csv",
         build=b.with_column("cancel_reason", b.cancel_reason),
         stage="check", outcome="notice", bad_inputs="names like cancel/churn/reason",
         expect=[P("LEAKY_NAME", column="cancel_reason")]),
    dict(id="leak_missing", file="leak_missing.csv",
         build=b.with_column("last_survey", b.survey_missing), stage="check", outcome="notice",
         bad_inputs="extra: missingness that encodes the label",
         expect=[P("MISSING_ENCODES_LABEL", column="last_survey")]),
    # --- Scoring new data with a saved model
    dict(id="score_reordered", file="score_reordered.csv", build=b.reordered_columns,
         stage="score", outcome="notice", bad_inputs="columns reordered", expect=[],
         same_scores_as="score_ordered"),
    dict(id="score_missing", file="score_missing_columns.csv", build=b.missing_columns,
         stage="score", outcome="stop", bad_inputs="columns missing",
         expect=[P("MISSING_COLUMNS", severity="error", column="tenure"),
                 P("MISSING_COLUMNS", severity="error", column="plan")]),
    dict(id="score_extra", file="score_extra_columns.csv", build=b.extra_columns, stage="score",
         outcome="notice", bad_inputs="extra columns",
         expect=[P("EXTRA_COLUMNS", severity="info", count=2, values=["newsletter", "region"])]),
    dict(id="score_renamed", file="score_renamed.csv", build=b.renamed_columns, stage="score",
         outcome="notice", bad_inputs="renamed (case, spaces)",
         expect=[P("RENAMED_COLUMN", column="tenure", values=["Tenure"]),
                 P("RENAMED_COLUMN", column="spend", values=["SPEND"])]),
    dict(id="score_unseen", file="score_unseen_level.csv", build=b.unseen_level, stage="score",
         outcome="notice", bad_inputs="unseen category levels",
         expect=[P("UNSEEN_CATEGORY", column="plan", count=2, values=["enterprise"])]),
    dict(id="score_type_changed", file="score_type_changed.csv", build=b.type_changed,
         stage="score", outcome="notice", bad_inputs="dtype changed",
         expect=[P("MOSTLY_NUMBERS", column="spend", rows=[2, 3, 6], count=3),
                 P("NOT_NUMBERS", column="spend", count=3)]),
    dict(id="score_ordered", file="score_ordered.csv", build=lambda: b.utf8(b.base_table(50, 43)),
         stage="score", outcome="notice", bad_inputs="(reference for reordered)", expect=[]),
    # --- Model files
    dict(id="pickle_model", file="model.pkl", build=b.pickle_model, stage="bundle",
         outcome="stop", bad_inputs="a pickle \"model\" file", expect=[P("BUNDLE_PICKLE")]),
    dict(id="pickle_protocol0", file="model_p0.pkl", build=b.pickle_protocol0, stage="bundle",
         outcome="stop", bad_inputs="extra: a text-protocol pickle", expect=[P("BUNDLE_PICKLE")]),
    dict(id="joblib_model", file="model.joblib", build=b.joblib_like, stage="bundle",
         outcome="stop", bad_inputs="a joblib \"model\" file (compressed)",
         expect=[P("BUNDLE_PICKLE")]),
    dict(id="zip_with_pickle", file="bundle_with_pickle.zip", build=b.zip_with_pickle,
         stage="bundle", outcome="stop", bad_inputs="extra: a zip holding a pickle",
         expect=[P("BUNDLE_NOT_FOUND")]),
    # --- Exporting (checked on the trained cases: escaping, BOM, personal data)
    dict(id="formula_cells", file="formula_cells.csv", build=b.formula_cells, stage="check",
         outcome="notice", bad_inputs="text cells starting with = + - @ tab CR NUL", train=True,
         expect=[]),
    dict(id="personal_data", file="personal_data.csv", build=b.personal_data, stage="check",
         outcome="notice", bad_inputs="personal identifiers", train=True,
         expect=[P("PERSONAL_DATA_EXCLUDED", column=c)
                 for c in ("full_name", "email", "phone", "address")],
         excluded={"full_name": "PERSONAL_DATA", "email": "PERSONAL_DATA",
                   "phone": "PERSONAL_DATA", "address": "PERSONAL_DATA"}),
    # --- Second round (issue 14): ids kept exactly, hostile shapes, nonsense
    dict(id="wide_header", file="wide_header.csv", build=r2.wide_header, stage="read",
         outcome="notice", bad_inputs="extra: a header longer than the 64K sniffed",
         expect=[P("ENCODING_DETECTED")],
         frame={"rows": 20, "columns": ["customer_id", "measurement_column_number_2299",
                                        "churn"]}),
    dict(id="too_many_columns", file="too_many_columns.csv", build=r2.too_many_columns,
         stage="read", outcome="stop", bad_inputs="extra: 20,001 columns",
         expect=[P("TOO_MANY_COLUMNS", severity="error")]),
    dict(id="big_int_ids", file="big_int_ids.parquet", build=r2.big_int_ids, stage="read",
         outcome="notice", bad_inputs="extra: Parquet int64 ids above 2^53",
         expect=[P("KEPT_AS_TEXT", column="cust")],
         frame={"text": ["cust"], "values": {"cust": ["1230000000000000001",
                                                      "1230000000000000002"]}}),
    dict(id="uint64_ids", file="uint64_ids.parquet", build=r2.uint64_ids, stage="read",
         outcome="notice", bad_inputs="extra: Parquet uint64 ids",
         expect=[P("KEPT_AS_TEXT", column="account_id")],
         frame={"values": {"account_id": [str(2**63 + 5), str(2**63 + 6)]}}),
    dict(id="tricky_ids", file="tricky_ids.csv", build=r2.tricky_ids, stage="read",
         outcome="notice", bad_inputs="extra: ids equal to missing tokens or with spaces",
         expect=[P("ID_LOOKS_MISSING", severity="warning", column="customer_id", count=7),
                 P("ID_SPACES_KEPT", column="customer_id")],
         frame={"values": {"customer_id": r2.TRICKY_IDS}}),
    dict(id="empty_label", file="empty_label.csv", build=r2.empty_label, stage="check",
         outcome="stop", bad_inputs="extra: a label column with no values",
         expect=[P("LABEL_EMPTY", severity="error", column="churn")]),
    dict(id="formula_label", file="formula_label.xlsx", build=r2.formula_label_xlsx,
         stage="check", outcome="stop",
         bad_inputs="extra: an Excel label of formulas without cached values",
         expect=[P("LABEL_EMPTY", severity="error", column="churn")]),
    dict(id="far_cell", file="far_cell.xlsx", build=r2.far_cell_xlsx, stage="read",
         outcome="stop", bad_inputs="extra: a stray cell at XFD1048576",
         expect=[P("TOO_LARGE", severity="error")]),
    dict(id="late_nul", file="late_nul.csv", build=r2.late_nul, stage="read", outcome="notice",
         bad_inputs="extra: a NUL byte after the first 8 KB",
         expect=[P("NUL_REMOVED", severity="warning", rows=[502], count=1)],
         frame={"rows": 501}),
    dict(id="ragged_quoted", file="ragged_quoted.csv", build=r2.ragged_quoted, stage="read",
         outcome="notice", bad_inputs="extra: ragged rows below a quoted line break",
         expect=[P("RAGGED_ROWS", severity="warning", rows=[7], count=1)], frame={"rows": 40}),
    dict(id="nested_parquet", file="nested.parquet", build=r2.nested_parquet, stage="read",
         outcome="notice", bad_inputs="extra: a Parquet column of lists",
         expect=[P("NESTED_AS_TEXT", severity="warning", column="tags")]),
    dict(id="score_empty_feature", file="score_empty_feature.csv", build=r2.empty_feature,
         stage="score", outcome="notice", bad_inputs="extra: a model column empty in every row",
         expect=[P("FEATURE_EMPTY", severity="warning", values=["tenure"])]),
    dict(id="bundle_tampered", file="bundle_tampered.zip", build=r2.tampered_bundle,
         stage="bundle", outcome="stop", bad_inputs="extra: a manifest edited after saving",
         expect=[P("BUNDLE_TAMPERED")]),
    dict(id="bundle_old_version", file="bundle_old_version.zip", build=r2.old_version_bundle,
         stage="bundle", outcome="stop", bad_inputs="extra: a bundle of another version",
         expect=[P("BUNDLE_VERSION")]),
    dict(id="bundle_nan_threshold", file="bundle_nan_threshold.zip",
         build=r2.nan_threshold_bundle, stage="bundle", outcome="stop",
         bad_inputs="extra: NaN in the manifest", expect=[P("BUNDLE_BAD_MANIFEST")]),
    dict(id="bundle_deep_manifest", file="bundle_deep_manifest.zip",
         build=r2.deep_manifest_bundle, stage="bundle", outcome="stop",
         bad_inputs="extra: a manifest nested 20,000 levels deep",
         expect=[P("BUNDLE_BAD_MANIFEST")]),
    # --- Event logs (stage "events": propose the mapping, stage and build)
    dict(id="events_bracket_name", file="events [2024].csv", build=r2.events_bracket_name,
         stage="events", outcome="notice", bad_inputs="extra: a file name DuckDB reads as a glob",
         expect=[], frame={"rows_read": 700}),
    dict(id="events_neighbour", file="events 2.csv", build=r2.events_neighbour, stage="events",
         outcome="notice", bad_inputs="(the file the glob used to read instead)",
         expect=[], frame={"rows_read": 1500}),
    dict(id="events_future", file="events_future.csv", build=r2.events_future, stage="events",
         outcome="stop", bad_inputs="extra: 30 % of dates in 2099",
         expect=[P("EVENTS_FUTURE_DATES", severity="error", column="order_date")]),
    dict(id="events_returns_only", file="events_returns_only.csv",
         build=r2.events_returns_only, stage="events", outcome="stop",
         bad_inputs="extra: only negative amounts", expect=[P("EVENTS_NO_PURCHASES")]),
    dict(id="events_too_wide", file="events_too_wide.csv", build=r2.events_too_wide,
         stage="events", outcome="stop", bad_inputs="extra: an event log of 303 columns",
         expect=[P("EVENTS_TOO_MANY_COLUMNS", count=303)]),
    dict(id="clean_train", file="clean_train.csv", build=lambda: b.utf8(b.base_table(400, 99)),
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

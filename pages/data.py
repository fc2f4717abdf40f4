"""Data: upload a customer table, see every automatic decision, override it, check it."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from churn_core.pipeline import COLUMN_TYPES, ReadOptions, SchemaOverrides
from ui import cache
from ui.flows import data as data_flow
from ui.state import StateKeys, get, put
from ui.widgets import head, plain, problems_table, show_problems

K = StateKeys
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "shift_jis", "cp1252", "latin-1",
             "utf-16")
DELIMITERS = {",": "comma  ,", ";": "semicolon  ;", "\t": "tab", "|": "pipe  |", " ": "space"}
NONE = "(none)"

st.title("Data")
st.caption("Upload a table with one row per customer and a churn column (yes/no, 1/0, ...).")

up_col, sample_col = st.columns([5, 2])  # the button's label fits at 1024 px
with up_col:
    upload = st.file_uploader("Customer table", key=K.W_UPLOAD,
                              type=["csv", "tsv", "txt", "gz", "xlsx", "parquet"])
with sample_col:
    st.write("")
    if st.button("Use the sample", icon=":material/dataset:", width="stretch"):
        data_flow.load_sample()
if upload is not None and upload.file_id != get(K.UPLOAD_SEEN):
    put(K.UPLOAD_SEEN, upload.file_id)
    with st.spinner("Reading and checking the table..."):
        data_flow.load_bytes(upload.getvalue(), upload.name, upload.file_id)

if get(K.LOAD_PROBLEMS):
    st.error("The file could not be used. What was found:", icon=":material/error:")
    problems_table(get(K.LOAD_PROBLEMS))
    st.stop()
check = get(K.CHECK)
if check is None:
    st.info("Upload a file above, or use the sample data to try the tool.")
    st.stop()

ds = check.dataset
schema = ds.schema
frame = ds.frame
st.text(f"Current table: {get(K.SOURCE_NAME)}")
n_lab = int(ds.labelled.sum())
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Rows", f"{len(frame):,}")
c2.metric("Columns", f"{frame.shape[1]:,}")
c3.metric("Features used", f"{len(schema.features):,}")
c4.metric("Churn rate", f"{ds.y.mean():.1%}" if n_lab else "-")
c5.metric("Ready to train", "yes" if check.usable else "no")
if check.usable:
    st.page_link("pages/model.py", label="Next: train a model", icon=":material/model_training:")
show_problems([p for p in check.problems if p.severity != "info"], title="Check the data",
              key="data_problems")

# -- reading --------------------------------------------------------------------------------
read = check.read
if read is not None:
    with st.expander("How the file was read", expanded=False):
        st.dataframe(pd.DataFrame({
            "decision": ["format", "encoding", "delimiter", "header row (0 = first line)",
                         "sheet"],
            "value": [read.file_format, read.encoding or "-",
                      DELIMITERS.get(read.delimiter or "", read.delimiter or "-"),
                      str(read.header_row), read.sheet or "-"],
        }), hide_index=True, width="stretch")
        with st.form("form_read_options"):
            cols = st.columns(4)
            enc_opts = list(dict.fromkeys([read.encoding or "utf-8", *ENCODINGS]))
            encoding = cols[0].selectbox("Encoding", enc_opts,
                                         disabled=read.file_format != "csv")
            delim_opts = list(dict.fromkeys([read.delimiter or ",", *DELIMITERS]))
            delimiter = cols[1].selectbox("Delimiter", delim_opts,
                                          format_func=lambda d: DELIMITERS.get(d, repr(d)),
                                          disabled=read.file_format != "csv")
            header_row = cols[2].number_input("Header row", min_value=0, max_value=100,
                                              value=int(read.header_row), step=1)
            sheet = cols[3].text_input("Excel sheet", value=read.sheet or "",
                                       disabled=read.file_format != "excel")
            convert = st.checkbox("Convert numbers written as text (1,234 / 12% / ¥99)",
                                  value=(get(K.READ_OPTIONS) or ReadOptions()).convert_numbers)
            if st.form_submit_button("Re-read with these settings"):
                data_flow.set_read_options(ReadOptions(
                    encoding=encoding if read.file_format == "csv" else None,
                    delimiter=delimiter if read.file_format == "csv" else None,
                    header_row=int(header_row), sheet=sheet or None, convert_numbers=convert))
                st.rerun()

# -- id, label, dates -----------------------------------------------------------------------
st.subheader("Customer id and churn label")
ov = get(K.OVERRIDES) or SchemaOverrides()
columns = [str(c) for c in frame.columns]
mapping = pd.DataFrame({"value in file": list(schema.label_mapping),
                        "means": ["churned" if v else "stayed"
                                  for v in schema.label_mapping.values()]})
left, right = st.columns([3, 1])  # three pickers side by side need the room at 1024 px
with left, st.form("form_roles"):
    c1, c2, c3 = st.columns(3)
    id_opts = [NONE, *columns]
    id_col = c1.selectbox("Customer id column", id_opts,
                          index=id_opts.index(schema.id_column) if schema.id_column else 0)
    label_col = c2.selectbox("Churn label column", id_opts,
                             index=id_opts.index(schema.label_column)
                             if schema.label_column else 0)
    label_values: list[str] = []
    if schema.label_column is not None:
        label_values = [str(v) for v in frame[schema.label_column].dropna().unique()[:50]]
    pos_opts = ["(automatic)", *label_values]
    positive = c3.selectbox("Value meaning 'churned'", pos_opts,
                            index=pos_opts.index(schema.positive_label)
                            if schema.positive_label in pos_opts else 0)
    snapshot = st.text_input("Snapshot date for date columns (ISO, empty = latest date)",
                             value=ov.snapshot_date or "")
    if st.form_submit_button("Apply"):
        data_flow.set_overrides(dataclasses.replace(
            ov, id_column=None if id_col == NONE else id_col,
            label_column=None if label_col == NONE else label_col,
            positive_value=None if positive == "(automatic)" or label_col != schema.label_column
            else positive,
            snapshot_date=snapshot.strip() or None))
        st.rerun()
with right:
    st.caption("Label mapping")
    st.dataframe(mapping, hide_index=True, width="stretch")

# -- column types ---------------------------------------------------------------------------
st.subheader("Column types")
st.caption("Change 'use as' to override a type or to include/exclude a column, then apply.")
role = {c: "numeric" for c in schema.numeric}
role |= {c: "categorical" for c in schema.categorical}
role |= {c: "datetime" for c in schema.datetime}
role |= {c: "exclude" for c in schema.excluded}
editable = [c for c in frame.columns if c not in (schema.id_column, schema.label_column)]
types = pd.DataFrame({
    "column": [str(c) for c in editable],
    "use as": [role.get(c, "exclude") for c in editable],
    "why excluded": [schema.excluded.get(c, "") for c in editable],
})
with st.form("form_types"):
    edited = st.data_editor(
        types, hide_index=True, width="stretch", disabled=["column", "why excluded"],
        column_config={"use as": st.column_config.SelectboxColumn(options=list(COLUMN_TYPES),
                                                                  required=True)})
    if st.form_submit_button("Apply column types"):
        forced = dict(ov.column_types)
        for col, new, old in zip(editable, edited["use as"], types["use as"], strict=True):
            if new != old:
                forced[col] = new
        data_flow.set_overrides(dataclasses.replace(ov, column_types=forced))
        st.rerun()

# -- leakage --------------------------------------------------------------------------------
leak = check.report.leakage
flagged = leak[leak["action"].isin(["review", "excluded", "confirmed"])] if len(leak) else leak
if len(flagged):
    st.subheader("Possible leakage")
    st.warning("These columns predict churn almost perfectly on their own. They are often "
               "recorded when or after a customer leaves (e.g. a cancellation reason) and "
               "would make the model useless in practice. Confirm a column only if its value "
               "is known before churn.", icon=":material/warning:")
    st.dataframe(flagged, hide_index=True, width="stretch")
    chosen = []
    for col in flagged["column"]:
        if st.checkbox(f"Keep {plain(col)}: it is known before churn",
                       value=col in get(K.CONFIRMED)):
            chosen.append(col)
    if tuple(chosen) != tuple(get(K.CONFIRMED)):
        data_flow.set_confirmed(tuple(chosen))
        st.rerun()

# -- all decisions and the table --------------------------------------------------------------
with st.expander("Every automatic decision and problem", expanded=False):
    problems_table(check.problems, key="all_problems")
with st.expander("Column summary", expanded=False):
    st.dataframe(cache.column_summary(get(K.DATASET_KEY), check), hide_index=True,
                 width="stretch")
st.subheader("Preview")
st.dataframe(head(frame, 200), width="stretch")

"""Fuzz churn_core.reading.table.read_table with atheris, seeded with the bad-input corpus.

Not part of the test suite. Run it time-boxed from the repository root::

    pip install -r requirements-fuzz.txt
    python scripts/fuzz_reader.py -max_total_time=180 -rss_limit_mb=4096

Any exception other than ChurnDataError is a finding: atheris stops, prints the
traceback and writes the input as ``crash-*`` in the working directory. The
file name given to the reader is taken from the first input byte, so the
format hints (.csv, .xlsx, .parquet, .gz) are fuzzed too.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]

with atheris.instrument_imports(include=["churn_core"]):
    from churn_core.problems import ChurnDataError
    from churn_core.reading.table import ReadOptions, read_table

NAMES = ("upload", "data.csv", "data.tsv", "data.txt", "data.xlsx", "data.parquet",
         "data.csv.gz")
OPTIONS = ReadOptions(max_bytes=1 << 20)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    name = NAMES[data[0] % len(NAMES)]
    with contextlib.suppress(ChurnDataError):
        read_table(data[1:], name=name, options=OPTIONS)


def main() -> None:
    corpus = Path(tempfile.mkdtemp(prefix="churn-fuzz-"))
    for i, f in enumerate(sorted((ROOT / "tests" / "bad_inputs" / "files").iterdir())):
        # prefix byte picks the name the file has in the corpus, roughly
        prefix = bytes([1]) if f.suffix in (".csv", ".txt", ".tsv") else bytes([i % len(NAMES)])
        if f.stat().st_size <= 64 * 1024:
            shutil.copy(f, corpus / f.name)
            (corpus / f"{f.name}.named").write_bytes(prefix + f.read_bytes())
    atheris.Setup([sys.argv[0], str(corpus), *sys.argv[1:]], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

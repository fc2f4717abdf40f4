"""Bytes to text for :mod:`churn_core.reading.table`: format, encoding, delimiter and header.

Everything here looks at raw bytes or decoded text and decides how to read
them; :mod:`churn_core.reading.table` turns the decisions into :class:`~churn_core.problems.Problem`
records and builds the table. Decoding is always strict: a candidate encoding
that fails on any byte is rejected, never papered over with ``errors="replace"``.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Encodings tried, in order, when a file has no byte-order mark.
CANDIDATE_ENCODINGS = ("utf-8", "gb18030", "big5", "cp1252")
#: Delimiters the sniffer chooses among, in order of preference on a tie.
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")

SNIFF_BYTES = 8192          # bytes looked at to tell text from binary
SAMPLE_CHARS = 65536        # text looked at to sniff delimiter and header
SAMPLE_MIN_LINES = 5        # ...but at least this many whole lines, however long
SAMPLE_MAX_CHARS = 8 << 20  # ...up to this many characters (a header this long is refused)
SAMPLE_RECORDS = 50         # records looked at to sniff delimiter and header
SCORE_CHARS = 1 << 20       # bytes decoded by every candidate encoding for scoring

_BOMS = (  # utf-32 before utf-16: the utf-32 LE mark starts with the utf-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1a\x1b")
# Characters that real Western cp1252 text is made of, outside ASCII.
_LATIN_OK = re.compile(r"[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                       r"\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u20ac\u2122]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def sniff_format(data: bytes, name: str = "") -> str:
    """Tell what kind of file ``data`` is from its first bytes, not its name.

    Parameters
    ----------
    data : bytes
        The file's content (at least the first few kilobytes).
    name : str, optional
        The file name; only used to log a hint.

    Returns
    -------
    str
        ``"empty"``, ``"csv"`` (any delimited text), ``"excel"`` (.xlsx),
        ``"parquet"``, ``"gzip"``, ``"xls"`` (old OLE Excel), ``"zip"`` (an
        archive that is not a workbook), ``"pdf"`` or ``"binary"``.
    """
    head = data[:SNIFF_BYTES]
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        kind = "empty"
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        kind = "excel" if _is_xlsx(data) else "zip"
    elif head.startswith(b"PAR1"):
        kind = "parquet"
    elif head.startswith(b"\x1f\x8b"):
        kind = "gzip"
    elif head.startswith(_OLE_MAGIC):
        kind = "xls"
    elif head.startswith(b"%PDF"):
        kind = "pdf"
    elif any(head.startswith(bom) for bom, _, _ in _BOMS) or _utf16_without_bom(head):
        kind = "csv"
    elif b"\x00" in head:
        kind = "binary"
    else:
        controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
        kind = "binary" if controls > 0.05 * len(head) else "csv"
    logger.debug("sniffed %r as %s", name, kind)
    return kind


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _utf16_without_bom(head: bytes) -> str | None:
    """Return "utf-16-le"/"utf-16-be" when ``head`` looks like BOM-less UTF-16 text."""
    n = len(head) // 2 * 2
    if n < 4:
        return None
    even, odd = head[0:n:2], head[1:n:2]
    half = n // 2
    if odd.count(0) > 0.9 * half and even.count(0) < 0.1 * half:
        return "utf-16-le"
    if even.count(0) > 0.9 * half and odd.count(0) < 0.1 * half:
        return "utf-16-be"
    return None


def whole_lines(data: bytes) -> bytes:
    """Return the start of ``data`` up to its last line end, never splitting a character.

    For decoding the first block of a larger file strictly. UTF-16 and UTF-32 (from the
    byte-order mark or the zero-byte pattern) end lines with a whole code unit; in the
    other candidate encodings byte 0x0A is never part of another character.
    """
    unit, start = b"\n", 0
    for bom, codec, _ in _BOMS:
        if data.startswith(bom):
            unit, start = "\n".encode(codec), len(bom)
            break
    else:
        bare = _utf16_without_bom(data[:SNIFF_BYTES])
        if bare:
            unit = "\n".encode(bare)
    pos = data.rfind(unit)
    while pos >= 0 and (pos - start) % len(unit):
        pos = data.rfind(unit, 0, pos + len(unit) - 1)
    return data[: pos + len(unit)] if pos >= 0 else data


@dataclass(frozen=True)
class Decoded:
    """Text decoded from a file, with how it was decided.

    ``encoding`` is the name reported to the user (``"utf-8-sig"`` for UTF-8
    with a byte-order mark); ``how`` is ``"option"``, ``"bom"`` or ``"detected"``;
    ``plausibility`` is the 0..1 score of the winner (1.0 when not scored).
    """

    text: str
    encoding: str
    how: str
    plausibility: float
    rejected: tuple[str, ...]


class UndecodableError(ValueError):
    """No candidate encoding (or the one asked for) decodes the bytes strictly."""

    def __init__(self, message: str, tried: tuple[str, ...]) -> None:
        super().__init__(message)
        self.tried = tried


def decode_text(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode ``data`` strictly, detecting the encoding unless one is given.

    Parameters
    ----------
    data : bytes
        The whole file.
    encoding : str, optional
        Use this codec (any name Python knows); a byte-order mark is still stripped.

    Returns
    -------
    Decoded

    Raises
    ------
    UndecodableError
        The given encoding fails, or no candidate decodes the whole file.
    LookupError
        ``encoding`` is not a codec name.
    """
    if encoding is not None:
        name = codecs.lookup(encoding).name
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            raise UndecodableError(
                f"the file is not valid {encoding} (byte {exc.start:,}: {exc.reason})", (name,)
            ) from exc
        return Decoded(text.lstrip("\ufeff"), name, "option", 1.0, ())

    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom):].decode(codec), label, "bom", 1.0, ())
            except UnicodeDecodeError as exc:
                raise UndecodableError(
                    f"the file starts with a {label} byte-order mark but is not valid {label} "
                    f"(byte {exc.start + len(bom):,})", (label,)
                ) from exc
    bare16 = _utf16_without_bom(data[:SNIFF_BYTES])
    if bare16:
        try:
            return Decoded(data.decode(bare16), bare16, "detected", 1.0, ())
        except UnicodeDecodeError:
            pass

    try:  # utf-8 is checked first and wins when valid: gb18030 accepts nearly any bytes
        return Decoded(data.decode("utf-8"), "utf-8", "detected", 1.0, ())
    except UnicodeDecodeError:
        pass
    ranked = _rank_legacy(data)
    rejected: list[str] = ["utf-8"]
    for score, codec in ranked:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            rejected.append(codec)
            continue
        return Decoded(text, codec, "detected", score, tuple(rejected))
    tried = tuple(CANDIDATE_ENCODINGS)
    raise UndecodableError(
        "the file is not text in any of " + ", ".join(tried)
        + "; set the encoding explicitly if you know it", tried
    )


def _rank_legacy(data: bytes) -> list[tuple[float, str]]:
    """Score gb18030, big5 and cp1252 on the start of ``data``, best first."""
    sample = data[:SCORE_CHARS]
    if len(data) > SCORE_CHARS and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]  # 0x0A is never inside a character here
    scored: list[tuple[float, int, str]] = []
    for order, codec in enumerate(CANDIDATE_ENCODINGS[1:]):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        scored.append((_plausibility(text, codec), -order, codec))
    scored.sort(reverse=True)
    logger.debug("encoding scores: %s", scored)
    return [(s, c) for s, _, c in scored]


def _plausibility(text: str, codec: str) -> float:
    """Share of non-ASCII characters that look like real text in ``codec``, 0..1.

    Chinese text in GBK sits almost entirely in GB2312's symbol rows and its
    level-1 (most common) characters; Big5 text in Big5's symbols and level 1.
    Bytes of the other encodings decode to rarer characters. Western cp1252 text
    has isolated accented letters between ASCII; CJK bytes read as cp1252 give
    runs of two or more.
    """
    chars = _NON_ASCII.findall(text)
    if not chars:
        return 1.0
    counts = Counter(chars)
    good = 0
    if codec == "cp1252":
        isolated = len(re.findall(r"(?<![^\x00-\x7f])[^\x00-\x7f](?![^\x00-\x7f])", text))
        latin = sum(n for ch, n in counts.items() if _LATIN_OK.match(ch))
        return min(isolated, latin) / len(chars)
    for ch, n in counts.items():
        try:
            b = ch.encode("gb2312" if codec == "gb18030" else "big5")
        except UnicodeEncodeError:
            continue
        lead = b[0]
        common = (0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7) if codec == "gb18030" \
            else 0xA1 <= lead <= 0xC6
        good += n if common else 0
    return good / len(chars)


@dataclass(frozen=True)
class Layout:
    """How delimited text is laid out.

    ``header_line`` is the 0-based physical line of the header; ``skipped`` holds
    the non-blank lines above it; ``width`` is the number of fields to read (the
    header's, or one more when every data row ends with an empty field);
    ``consistency`` is the share of sampled records with the modal field count.
    """

    delimiter: str
    delimiter_sniffed: bool
    header_line: int
    header_sniffed: bool
    header_fields: tuple[str, ...]
    width: int
    skipped: tuple[str, ...]
    consistency: float


def sniff_layout(text: str, *, delimiter: str | None = None, header_row: int | None = None,
                 prefer_tab: bool = False) -> Layout:
    """Find the delimiter and the header line of delimited ``text``.

    Parameters
    ----------
    text : str
        The decoded file (only the first ~64k characters are looked at).
    delimiter : str, optional
        Use this delimiter instead of sniffing.
    header_row : int, optional
        0-based line of the header instead of detecting it.
    prefer_tab : bool
        Prefer a tab on a tie (the file is named ``.tsv``).

    Returns
    -------
    Layout
    """
    sample = _sample(text)
    order = list(CANDIDATE_DELIMITERS)
    if prefer_tab:
        order.remove("\t")
        order.insert(0, "\t")
    if delimiter is not None:
        chosen = delimiter
        records = _records(sample, delimiter)
    else:
        best: tuple[tuple[bool, float, int], str, list[tuple[int, list[str]]]] | None = None
        for rank, cand in enumerate(order):
            recs = _records(sample, cand)
            mode, share = _mode(recs)
            key = (mode >= 2, round(share, 3), -rank)
            if best is None or key > best[0]:
                best = (key, cand, recs)
        assert best is not None
        chosen, records = best[1], best[2]
    mode, share = _mode(records)

    widen = False
    if header_row is not None:
        above = _first_lines(text, header_row + 1)
        line_text = above[header_row] if len(above) > header_row else ""
        fields = next(csv.reader([line_text.rstrip("\r")], delimiter=chosen), [])
        header: tuple[int, list[str]] = (header_row, fields)
    else:
        header = next((r for r in records if len(r[1]) == mode), records[0] if records else (0, []))
        first = records[0] if records else None
        # "a,b" above rows "1,2," is a trailing delimiter, not a title line
        if first is not None and len(first[1]) == mode - 1 and mode >= 2:
            body = [r for r in records[1:] if len(r[1]) == mode]
            if body and all(r[1][-1] == "" for r in body):
                header, widen = first, True
    width = len(header[1]) + 1 if widen else len(header[1])
    skipped = tuple(line.strip() for line in _first_lines(text, header[0]) if line.strip())
    return Layout(chosen, delimiter is None, header[0], header_row is None, tuple(header[1]),
                  max(width, 1), skipped, share)


def _sample(text: str) -> str:
    """The text the layout is judged on: whole lines, about :data:`SAMPLE_CHARS` of them,
    but never fewer than :data:`SAMPLE_MIN_LINES` lines however wide they are (a header
    of 3,000 columns is longer than the sample; cutting it would drop columns)."""
    if len(text) <= SAMPLE_CHARS:
        return text
    end = -1
    for _ in range(SAMPLE_MIN_LINES):
        end = text.find("\n", end + 1, SAMPLE_MAX_CHARS)
        if end < 0:
            return text[:SAMPLE_MAX_CHARS]
    if end + 1 >= SAMPLE_CHARS:
        return text[: end + 1]
    sample = text[:SAMPLE_CHARS]
    return sample[: sample.rindex("\n") + 1]


def _first_lines(text: str, n: int) -> list[str]:
    """Return the first ``n`` lines of ``text`` without copying the rest."""
    out: list[str] = []
    pos = 0
    while len(out) < n and pos <= len(text):
        nxt = text.find("\n", pos)
        out.append(text[pos:] if nxt < 0 else text[pos:nxt])
        if nxt < 0:
            break
        pos = nxt + 1
    return out


def _records(sample: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Return (0-based start line, fields) of the first non-blank records of ``sample``."""
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    start = 0
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                out.append((start, fields))
                if len(out) >= SAMPLE_RECORDS:
                    break
            start = reader.line_num
    except csv.Error as exc:  # a field over csv's size limit: judge on what was read
        logger.debug("csv sniffing stopped: %s", exc)
    return out


def _mode(records: list[tuple[int, list[str]]]) -> tuple[int, float]:
    """Return the modal field count (larger wins a tie) and its share of the records."""
    if not records:
        return 0, 0.0
    counts = Counter(len(f) for _, f in records)
    mode = max(counts, key=lambda k: (counts[k], k))
    return mode, counts[mode] / len(records)


def line_offset(data: bytes, line: int) -> int:
    """Return the byte offset where 0-based ``line`` starts in UTF-8 ``data``."""
    pos = 0
    for _ in range(line):
        nxt = data.find(b"\n", pos)
        if nxt < 0:
            return len(data)
        pos = nxt + 1
    return pos

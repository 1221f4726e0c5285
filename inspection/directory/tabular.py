"""Reading and writing the office's spreadsheets (CSV and XLSX), streaming.

Both directories import and export through this module. Rows are read one at a time (no list
of a million rows in memory) and headers may be given by column key, Chinese label or English
label, so a template filled in Excel in either language imports the same.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

from openpyxl import Workbook, load_workbook


class TableError(ValueError):
    """The file cannot be read as a table (wrong type, unknown or missing headers)."""


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    #: A short note for the template's second header row (format, allowed values ...).
    hint: str = ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value).strip()


def _header_index(headers: Sequence[str], columns: Sequence[Column]) -> dict[int, str]:
    names: dict[str, str] = {}
    for col in columns:
        for alias in (col.key, col.zh, col.en):
            names[alias.strip().lower()] = col.key
    index, seen = {}, set()
    for i, header in enumerate(headers):
        key = names.get(_cell(header).lower().rstrip("*").strip())
        if key is not None and key not in seen:
            index[i] = key
            seen.add(key)
    missing = [c.zh for c in columns if c.required and c.key not in seen]
    if missing:
        raise TableError("missing columns: " + ", ".join(missing))
    return index


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK by default
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("the CSV file is neither UTF-8 nor GBK")


_SNIFF = 1 << 20


def _sniff_encoding(head: bytes) -> str:
    """UTF-8 or GBK, judged on the first MiB (a character cut at its end is not an error)."""
    try:
        head.decode("utf-8-sig")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if len(head) == _SNIFF and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8-sig"
    try:
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        if len(head) == _SNIFF and exc.start >= len(head) - 3:
            return "gb18030"
    raise TableError("the CSV file is neither UTF-8 nor GBK")


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    """CSV rows, decoded while reading: a big file is never held in memory whole."""
    if not (hasattr(stream, "seekable") and stream.seekable()):
        yield from csv.reader(io.StringIO(_decode(stream.read()), newline=""))
        return
    start = stream.tell()
    encoding = _sniff_encoding(stream.read(_SNIFF))
    stream.seek(start)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield from csv.reader(text)
    except UnicodeDecodeError:
        raise TableError("the CSV file is neither UTF-8 nor GBK") from None
    finally:
        try:
            text.detach()  # leave the caller's stream open
        except ValueError:  # the caller closed it already
            pass


def read_rows(stream: IO[bytes], filename: str,
              columns: Sequence[Column]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(row_number, {key: text})`` for every non-empty data row. Row numbers are as
    the office sees them in Excel (the header is row 1). A second header row of hints, as in
    our template, is skipped."""
    name = filename.lower()
    if name.endswith(".csv"):
        rows: Iterator[Sequence[Any]] = _csv_rows(stream)
        is_csv = True
    elif name.endswith(".xlsx"):
        try:
            book = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a file that is not XLSX
            raise TableError(f"not a readable XLSX file ({exc.__class__.__name__})") from None
        rows = book.worksheets[0].iter_rows(values_only=True)
        is_csv = False
    else:
        raise TableError("only .csv and .xlsx files can be imported")
    try:
        headers = next(rows)
    except StopIteration:
        raise TableError("the file is empty") from None
    index = _header_index([_cell(h) for h in headers], columns)
    hint_row = {c.key: c.hint for c in columns}
    pairs = sorted(index.items())
    for number, row in enumerate(rows, start=2):
        if is_csv:  # cells are text already: the fast path for files of a million rows
            size = len(row)
            values = {key: row[i].strip() for i, key in pairs if i < size}
        else:
            values = {index[i]: _cell(v) for i, v in enumerate(row) if i in index}
        if not any(values.values()):
            continue
        if number == 2 and all(values.get(k, "") == hint_row.get(k, "") for k in values):
            continue
        yield number, values


def write_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[Any]], sheet: str,
               lang: str = "zh", hints: bool = False) -> bytes:
    """An XLSX of ``rows`` under the columns' headers, written in streaming mode."""
    out = io.BytesIO()
    save_xlsx(out, columns, rows, sheet, lang=lang, hints=hints)
    return out.getvalue()


def save_xlsx(target: str | Path | IO[bytes], columns: Sequence[Column],
              rows: Iterable[Sequence[Any]], sheet: str, lang: str = "zh",
              hints: bool = False) -> None:
    """Write the XLSX of ``rows`` to ``target`` (a path or a binary file) in openpyxl's
    write-only mode: rows go to disk as they come, so a million rows never sit in memory
    (the export job, ``directory/employers/export_job.py``)."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append([(c.zh if lang == "zh" else c.en) + ("*" if c.required and hints else "")
               for c in columns])
    if hints:
        ws.append([c.hint for c in columns])
    for row in rows:
        ws.append(list(row))
    book.save(target)

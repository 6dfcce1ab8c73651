"""CSV exports: one way to stream rows of any count to a download, and one rule for cells a spreadsheet would run."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (and a tab or carriage
# return hides one); prefixing an apostrophe makes the spreadsheet show the text instead of running it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text someone outside typed (a subject, a search, a name), as a cell a spreadsheet shows and never runs."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in rows)


def streamed_csv(rows: Iterable[Iterable[object]], *, filename: str) -> StreamingHttpResponse:
    """A download of ``rows`` written as they are read, so an export of any size stays in bounded memory."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

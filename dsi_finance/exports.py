"""Every list page's XLSX export: the page's filtered, sorted rows, all of them.

The same URL with `?export=xlsx` answers the file instead of the page, through the
page's own view: same permission, same filters, same tab, same sorting (not the page
number). A list declares its columns (`export_columns`, a list of ExportColumn) next
to its table, and the view takes `XlsxExportMixin`:

    class InvoiceListView(CapabilityRequiredMixin, XlsxExportMixin, HtmxTableMixin, ...):
        export_columns = INVOICE_EXPORT
        export_name = "achats-factures"

and its template includes `partials/export_button.html` inside the table region.

Constant memory and speed: the rows are read with `values_list(...).iterator()` (no
model instances, no N+1: the joins come from the fields named), and written by a
small streaming SpreadsheetML writer (`write_xlsx`) straight into a deflated zip
member of a temporary file, which the response then streams. openpyxl's write-only
mode made a cell object per value and wrote ~3 000 rows/s here; this writer formats
each cell as one string. The files open in Excel, LibreOffice and openpyxl (the tests
read them back with openpyxl).

Cells: text goes through `dsi_finance.xlsx.safe_text` (a value starting with `=`,
`+`, `-` or `@` never runs as a formula), and loses the characters XML forbids;
amounts are integer cells with the XPF number format (a negative amount stays a
number); dates are real date cells shown DD/MM/YYYY. The header row is frozen and
carries an autofilter; amount columns get a totals row.
"""

import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from django.contrib import messages
from django.http import FileResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tables2 import RequestConfig

from .xlsx import (
    DATE_NUMBER_FORMAT,
    PERCENT_NUMBER_FORMAT,
    XLSX_CONTENT_TYPE,
    XPF_NUMBER_FORMAT,
    percent_fraction,
    safe_text,
)

EXPORT_PARAMETER = "export"
EXPORT_VALUE = "xlsx"
CHUNK_SIZE = 2000

# Column kinds.
TEXT = "text"
AMOUNT = "amount"  # integer XPF francs, XPF number format, totalled
DATE = "date"  # a date (a datetime is shown as its local date)
DATETIME = "datetime"  # a local date and time
PERCENT = "percent"  # a rate in percent (61.0), written as a fraction with a percent format
QUANTITY = "quantity"  # any number, general format
KINDS = (TEXT, AMOUNT, DATE, DATETIME, PERCENT, QUANTITY)

DEFAULT_WIDTHS = {TEXT: 18, AMOUNT: 16, DATE: 12, DATETIME: 17, PERCENT: 10, QUANTITY: 10}
MAX_WIDTH = 60
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export.

    header: French through gettext_lazy. field: the `values_list` path (or a tuple of
    paths) the value is read from. value: optional, called with the field values (one
    argument per path) to give the cell's value. choices: a TextChoices whose label
    replaces the value. kind: one of KINDS. total: totalled in the last row (amounts
    are by default). width: in characters (a default by kind otherwise).
    """

    header: str
    field: str | tuple[str, ...] | None = None
    kind: str = TEXT
    value: Callable | None = None
    choices: type | None = None
    width: float | None = None
    total: bool | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown export column kind: {self.kind}")

    @property
    def fields(self) -> tuple[str, ...]:
        if self.field is None:
            return ()
        return (self.field,) if isinstance(self.field, str) else tuple(self.field)

    @property
    def totalled(self) -> bool:
        return self.kind == AMOUNT if self.total is None else self.total

    @property
    def column_width(self) -> float:
        if self.width is not None:
            return self.width
        return min(MAX_WIDTH, max(DEFAULT_WIDTHS[self.kind], len(str(self.header)) + 2))


def full_name(first_name, last_name, username) -> str:
    """A person as the pages show them: full name, else username; empty for nobody."""
    return f"{first_name or ''} {last_name or ''}".strip() or (username or "")


def person_column(header, path: str, **kwargs) -> ExportColumn:
    """A user foreign key (`path`, e.g. `requested_by`) as the person's name."""
    return ExportColumn(
        header,
        (f"{path}__first_name", f"{path}__last_name", f"{path}__username"),
        value=full_name,
        **kwargs,
    )


def yes_no(value) -> str:
    return _("Yes") if value else _("No")


# ---------------------------------------------------------------------------
# Reading the rows


def rows_from_queryset(
    queryset, columns: Sequence[ExportColumn], *, chunk_size: int = CHUNK_SIZE
) -> Iterable[list]:
    """The cell values of each row of `queryset`, read in chunks through `values_list`
    (the queryset's order kept), converted by each column's `value` or `choices`."""
    fields: list[str] = []
    getters = []
    for column in columns:
        start = len(fields)
        fields.extend(column.fields)
        getters.append(_getter(column, start))
    for record in queryset.values_list(*fields).iterator(chunk_size=chunk_size):
        yield [getter(record) for getter in getters]


def _getter(column: ExportColumn, start: int) -> Callable:
    count = len(column.fields)
    if count == 0:
        raise ValueError(f"Export column {column.header!s} names no field.")
    convert = column.value
    if column.choices is not None:
        # Built once per export, in the language of the request.
        labels = {value: str(label) for value, label in column.choices.choices}
        if convert is None:
            return lambda record: labels.get(record[start], record[start])
        inner = convert
        convert = lambda *values: inner(labels.get(values[0], values[0]), *values[1:])  # noqa: E731
    if count == 1:
        if convert is None:
            return lambda record: record[start]
        return lambda record: convert(record[start])
    end = start + count
    if convert is None:
        raise ValueError(f"Export column {column.header!s} needs a value function.")
    return lambda record: convert(*record[start:end])


# ---------------------------------------------------------------------------
# Writing the workbook


def write_xlsx(
    rows: Iterable[Sequence],
    columns: Sequence[ExportColumn],
    output,
    *,
    title: str = "Export",
    totals: bool = True,
) -> int:
    """Write `rows` (sequences of cell values, in the order of `columns`) as an XLSX
    workbook of one sheet to `output` (a path or a binary file open for writing);
    return the number of rows written (header and totals not counted).

    Streaming: each row is formatted and compressed as it comes, so memory does not
    grow with the number of rows. Header frozen, autofilter, column widths; when
    `totals` and a column is totalled (amounts), a last row holds the sums.
    """
    title = sheet_name(title)
    count = len(columns)
    letters = [column_letter(index) for index in range(1, count + 1)]
    cell_writers = [_CELL_WRITERS[column.kind] for column in columns]
    totalled = [index for index, column in enumerate(columns) if column.totalled]
    sums = dict.fromkeys(totalled, 0)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/styles.xml", STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_sheet_head(columns).encode())
            header = "".join(
                _text_cell(f"{letter}1", str(column.header), HEADER_STYLE)
                for letter, column in zip(letters, columns, strict=True)
            )
            buffer = [f'<sheetData><row r="1">{header}</row>']
            number = 1
            for row in rows:
                number += 1
                cells = [f'<row r="{number}">']
                append = cells.append
                for index, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    append(cell_writers[index](f"{letters[index]}{number}", value))
                append("</row>")
                buffer.append("".join(cells))
                for index in totalled:
                    value = row[index]
                    if value is not None:
                        sums[index] += int(value)
                if len(buffer) >= 500:
                    sheet.write("".join(buffer).encode())
                    buffer.clear()
            last_data_row = number
            if totals and totalled:
                number += 1
                cells = [f'<row r="{number}">']
                label_index = next((i for i in range(count) if i not in sums), None)
                for index in range(count):
                    ref = f"{letters[index]}{number}"
                    if index in sums:
                        cells.append(
                            f'<c r="{ref}" s="{TOTAL_AMOUNT_STYLE}"><v>{sums[index]}</v></c>'
                        )
                    elif index == label_index:
                        cells.append(_text_cell(ref, _("Total"), TOTAL_TEXT_STYLE))
                cells.append("</row>")
                buffer.append("".join(cells))
            buffer.append("</sheetData>")
            buffer.append(f'<autoFilter ref="A1:{letters[-1]}{last_data_row}"/>')
            buffer.append("</worksheet>")
            sheet.write("".join(buffer).encode())
        filter_range = (
            f"'{title.replace(chr(39), chr(39) * 2)}'!$A$1:${letters[-1]}${last_data_row}"
        )
        book.writestr("xl/workbook.xml", _workbook_xml(title, filter_range))
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
    return last_data_row - 1


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def sheet_name(title) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    name = SHEET_NAME_FORBIDDEN.sub(" ", str(title)).strip().strip("'") or "Export"
    return name[:31]


def _text_cell(ref: str, value, style: int = 0) -> str:
    if value.__class__ is not str:
        value = str(value)
    value = safe_text(value)
    if ILLEGAL_XML.search(value):
        value = ILLEGAL_XML.sub("", value)
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _amount_cell(ref: str, value) -> str:
    return f'<c r="{ref}" s="{AMOUNT_STYLE}"><v>{int(value)}</v></c>'


def _number_cell(ref: str, value) -> str:
    if isinstance(value, bool):
        return _text_cell(ref, _("Yes") if value else _("No"))
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}"><v>{float(value)!r}</v></c>'


def _percent_cell(ref: str, value) -> str:
    # Stored as a fraction (61.0 -> 0.61) that the percent format shows as 61,0 %.
    return f'<c r="{ref}" s="{PERCENT_STYLE}"><v>{float(percent_fraction(value))!r}</v></c>'


def _date_cell(ref: str, value) -> str:
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    elif not isinstance(value, date):
        return _text_cell(ref, value)
    return f'<c r="{ref}" s="{DATE_STYLE}"><v>{value.toordinal() - EXCEL_EPOCH_ORDINAL}</v></c>'


def _datetime_cell(ref: str, value) -> str:
    if not isinstance(value, datetime):
        return _date_cell(ref, value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    serial = value.toordinal() - EXCEL_EPOCH_ORDINAL + seconds / 86400
    return f'<c r="{ref}" s="{DATETIME_STYLE}"><v>{serial!r}</v></c>'


_CELL_WRITERS = {
    TEXT: _text_cell,
    AMOUNT: _amount_cell,
    DATE: _date_cell,
    DATETIME: _datetime_cell,
    PERCENT: _percent_cell,
    QUANTITY: _number_cell,
}


def _sheet_head(columns: Sequence[ExportColumn]) -> str:
    cols = "".join(
        f'<col min="{index}" max="{index}" width="{column.column_width}" customWidth="1"/>'
        for index, column in enumerate(columns, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
    )


def _workbook_xml(title: str, filter_range: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name={quoteattr(title)} sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{escape(filter_range)}</definedName></definedNames>"
        "</workbook>"
    )


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{PACKAGE_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{PACKAGE_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)

# Cell styles (indexes into cellXfs below).
HEADER_STYLE = 1
AMOUNT_STYLE = 2
DATE_STYLE = 3
DATETIME_STYLE = 4
PERCENT_STYLE = 5
TOTAL_TEXT_STYLE = 6
TOTAL_AMOUNT_STYLE = 7
DATETIME_NUMBER_FORMAT = "DD/MM/YYYY HH:MM"
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_XF = '<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{extra}'
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="4">'
    f'<numFmt numFmtId="164" formatCode={quoteattr(XPF_NUMBER_FORMAT)}/>'
    f'<numFmt numFmtId="165" formatCode={quoteattr(DATE_NUMBER_FORMAT)}/>'
    f'<numFmt numFmtId="166" formatCode={quoteattr(DATETIME_NUMBER_FORMAT)}/>'
    f'<numFmt numFmtId="167" formatCode={quoteattr(PERCENT_NUMBER_FORMAT)}/>'
    "</numFmts>"
    '<fonts count="3">'
    f"<font>{_FONT}</font>"
    f'<font><b/><color rgb="FFFFFFFF"/>{_FONT}</font>'
    f"<font><b/>{_FONT}</font>"
    "</fonts>"
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FF1F4E79"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="8">'
    + _XF.format(fmt=0, font=0, fill=0, extra="/>")
    + _XF.format(
        fmt=0,
        font=1,
        fill=2,
        extra=' applyFont="1" applyFill="1" applyAlignment="1">'
        '<alignment vertical="center" wrapText="1"/></xf>',
    )
    + _XF.format(fmt=164, font=0, fill=0, extra=' applyNumberFormat="1"/>')
    + _XF.format(fmt=165, font=0, fill=0, extra=' applyNumberFormat="1"/>')
    + _XF.format(fmt=166, font=0, fill=0, extra=' applyNumberFormat="1"/>')
    + _XF.format(fmt=167, font=0, fill=0, extra=' applyNumberFormat="1"/>')
    + _XF.format(fmt=0, font=2, fill=0, extra=' applyFont="1"/>')
    + _XF.format(fmt=164, font=2, fill=0, extra=' applyNumberFormat="1" applyFont="1"/>')
    + "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


# ---------------------------------------------------------------------------
# The response and the views


def export_filename(stem: str, day: date | None = None) -> str:
    """`achats-factures-2026-11-29.xlsx`: the list's French name and today's date."""
    return f"{stem}-{(day or timezone.localdate()):%Y-%m-%d}.xlsx"


def xlsx_file(rows: Iterable[Sequence], columns: Sequence[ExportColumn], *, title: str):
    """An open temporary file holding the workbook of `rows`, at its start."""
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    try:
        write_xlsx(rows, columns, output, title=title)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return output


def xlsx_response(output, *, filename: str) -> FileResponse:
    """Streams a workbook file (xlsx_file) as a download named `filename`."""
    return FileResponse(
        output, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


def wants_export(request) -> bool:
    """Whether a page was asked for its XLSX export (`?export=xlsx`)."""
    return request.GET.get(EXPORT_PARAMETER) == EXPORT_VALUE


def export_url(request) -> str:
    """The page's own URL and query (filters, tab, sort; not the page number) asking
    for its export."""
    query = request.GET.copy()
    for name in ("page", EXPORT_PARAMETER):
        query.pop(name, None)
    query[EXPORT_PARAMETER] = EXPORT_VALUE
    return f"{request.path}?{query.urlencode()}"


class InvalidFilters(Exception):
    """The page's filters do not validate: nothing to export."""


class XlsxExportMixin:
    """`?export=xlsx` on a list page answers its filtered, sorted rows as XLSX.

    Put it after the permission mixin (the export has the page's permission) and
    before the generic view. Set `export_columns` (ExportColumn list), `export_name`
    (the file's French stem) and `export_title` (the sheet's name). A page without a
    queryset overrides `get_export_rows()` to yield the cell values itself.
    The context gets `export_url`: the page's own query string (filters, tab, sort;
    not the page number) with `export=xlsx`.
    """

    export_columns: Sequence[ExportColumn] = ()
    export_name = "export"
    export_title = gettext_lazy("Export")

    def get(self, request, *args, **kwargs):
        if wants_export(request):
            return self.export_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["export_url"] = self.get_export_url()
        return context

    def get_export_url(self) -> str:
        return export_url(self.request)

    def get_export_columns(self) -> Sequence[ExportColumn]:
        return self.export_columns

    def get_export_filename(self) -> str:
        return export_filename(self.export_name)

    def get_export_queryset(self):
        """The rows the page lists, all of them, in the table's order."""
        if hasattr(self, "get_filterset_class"):
            self.filterset = self.get_filterset(self.get_filterset_class())
            if self.filterset.is_bound and not self.filterset.is_valid() and self.get_strict():
                raise InvalidFilters
            self.object_list = self.filterset.qs
        elif hasattr(self, "get_object"):
            self.object = self.get_object()
        else:
            self.object_list = self.get_queryset()
        if not hasattr(self, "get_table_class"):
            return self.object_list
        table = self.get_table_class()(self.get_table_data(), **self.get_table_kwargs())
        RequestConfig(self.request, paginate=False).configure(table)
        return table.data.data

    def get_export_rows(self) -> Iterable[Sequence]:
        return rows_from_queryset(self.get_export_queryset(), self.get_export_columns())

    def export_response(self):
        try:
            output = xlsx_file(
                self.get_export_rows(), self.get_export_columns(), title=self.export_title
            )
        except InvalidFilters:
            messages.error(self.request, _("Some filters are not valid: nothing was exported."))
            query = self.request.GET.copy()
            query.pop(EXPORT_PARAMETER, None)
            return HttpResponseRedirect(f"{self.request.path}?{query.urlencode()}")
        # After the rows: a view may name the file after what they were read from.
        return xlsx_response(output, filename=self.get_export_filename())

"""XLSX of a revision: the export of any revision, the reading of a proposal, and its check.

One layout for both ways, so that a file exported then imported gives the same
revision: one sheet, a header row, then one row per budget line with

    line code | label | section (F/I) | account | cost centre | project | amount | justification

(amount: the BP amount, or the DM's signed change). Text written by users is
neutralised on export (dsi_finance.xlsx.safe_text) and the neutralising
apostrophe is taken off again on import.

`check_revision_rows` reads the database and reports every error of every row
without writing anything; budgets.revision_import saves a file that passed it.
"""

from dataclasses import dataclass, field
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from dsi_finance import xlsx
from dsi_finance.money import format_xpf, parse_francs
from dsi_finance.xlsx import (
    HEADER_ALIGNMENT,
    HEADER_FILL,
    HEADER_FONT,
    XPF_NUMBER_FORMAT,
    ImportFileError,
    safe_text,
)

from . import services
from .models import BudgetLine, BudgetRevision, CostCentre, NatureAccount, Project, Section

# Limits of an uploaded proposal (a DSI's budget is a few hundred rows): the kernel's.
IMPORT_MAX_BYTES = xlsx.MAX_BYTES
IMPORT_MAX_ROWS = xlsx.MAX_ROWS
IMPORT_MAX_UNCOMPRESSED = xlsx.MAX_UNCOMPRESSED

# (field, header); the same order on export and import.
COLUMNS = (
    ("code", gettext_lazy("Line code")),
    ("label", gettext_lazy("Label")),
    ("section", gettext_lazy("Section (F/I)")),
    ("account", gettext_lazy("Account")),
    ("cost_centre", gettext_lazy("Cost centre")),
    ("project", gettext_lazy("Project")),
    ("amount", gettext_lazy("Amount or change")),
    ("justification", gettext_lazy("Justification")),
)
COLUMN_WIDTHS = (14, 40, 12, 12, 14, 14, 20, 60)

# Row statuses of the preview.
ERROR = "error"
NEW_LINE = "new_line"
ADDED = "added"
CHANGED = "changed"
UNCHANGED = "unchanged"
STATUS_LABELS = {
    ERROR: gettext_lazy("Error"),
    NEW_LINE: gettext_lazy("New budget line"),
    ADDED: gettext_lazy("Added to the revision"),
    CHANGED: gettext_lazy("Changed"),
    UNCHANGED: gettext_lazy("Unchanged"),
}


# ---------------------------------------------------------------------------
# Amounts typed in a form or found in a cell


def amount_label(revision: BudgetRevision) -> str:
    """What the amount of a revision's line is called: BP amount or DM change."""
    return _("The change") if revision.is_amending else _("The amount")


def amount_for_input(value: int | None) -> str:
    """An amount as typed back in a form field: `1 234 567` with plain spaces."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", " ")


# ---------------------------------------------------------------------------
# Export


def revision_export_items(revision: BudgetRevision):
    """The revision's items with what the export writes of their line, in line order."""
    return revision.items.select_related(
        "budget_line__nature_account", "budget_line__cost_centre", "budget_line__project"
    ).order_by("budget_line__section", "budget_line__code")


def revision_export_filename(revision: BudgetRevision) -> str:
    return f"{revision.kind}-{revision.fiscal_year.year}.xlsx"


def revision_workbook(revision: BudgetRevision) -> bytes:
    """The revision in the import layout, as the bytes of an XLSX file.

    Written in openpyxl's write-only mode, row by row: memory stays flat
    whatever the number of lines.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=f"{revision.kind} {revision.fiscal_year.year}")
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    header = []
    for _field, title in COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(title))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
        header.append(cell)
    sheet.append(header)
    for item in revision_export_items(revision).iterator(chunk_size=2000):
        line = item.budget_line
        amount = WriteOnlyCell(sheet, value=item.amount)
        amount.number_format = XPF_NUMBER_FORMAT
        sheet.append(
            [
                safe_text(line.code),
                safe_text(line.label),
                line.section,
                safe_text(line.nature_account.number),
                safe_text(line.cost_centre.code),
                safe_text(line.project.code) if line.project_id else None,
                amount,
                safe_text(item.justification) or None,
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Reading an uploaded proposal


@dataclass
class SheetRow:
    """One data row of the sheet, as text except the amount cell (kept raw)."""

    number: int  # the spreadsheet's row number (the header is row 1)
    code: str = ""
    label: str = ""
    section: str = ""
    account: str = ""
    cost_centre: str = ""
    project: str = ""
    amount: object = None
    justification: str = ""


# The file read by the kernel's reader (dsi_finance.xlsx): the columns in their order,
# text except the amount, typed with the revision's label when the rows are checked.
SHEET_COLUMNS = tuple(
    xlsx.Column(name, title, kind=xlsx.RAW if name == "amount" else xlsx.TEXT)
    for name, title in COLUMNS
)


def expected_headers() -> list[str]:
    return [str(title) for _field, title in COLUMNS]


def _header_error() -> ImportFileError:
    return ImportFileError(
        _(
            "The first row of the sheet must be the header: %(columns)s. "
            "Start from an export of a revision."
        )
        % {"columns": ", ".join(expected_headers())},
        code="header",
    )


def read_revision_sheet(content: bytes) -> list[SheetRow]:
    """The data rows of the first sheet; ImportFileError when the file cannot be used.

    Values are read as the spreadsheet last computed them (a formula counts
    for its result). Blank rows are skipped; row numbers are the sheet's.
    """
    rows = xlsx.read_sheet(
        content,
        SHEET_COLUMNS,
        header_error=_header_error,
        max_bytes=IMPORT_MAX_BYTES,
        max_rows=IMPORT_MAX_ROWS,
        max_uncompressed=IMPORT_MAX_UNCOMPRESSED,
    )
    return [SheetRow(number=row.number, **row.values) for row in rows]


# ---------------------------------------------------------------------------
# Checking a proposal against the database


@dataclass
class CheckedRow:
    sheet: SheetRow
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    line: BudgetLine | None = None  # the existing line, None for a new one
    nature_account: NatureAccount | None = None
    cost_centre: CostCentre | None = None
    project: Project | None = None
    amount: int | None = None
    current: int | None = None  # the amount already in the draft for this line
    status: str = ERROR

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def section(self) -> str:
        if self.nature_account is not None:
            return self.nature_account.chapter.section
        return self.sheet.section.upper()


@dataclass
class ImportCheck:
    revision: BudgetRevision
    rows: list[CheckedRow]
    replace: bool
    removed: list = field(default_factory=list)  # draft items the file leaves out (replace)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return sum(len(row.errors) for row in self.rows)

    @property
    def error_rows(self) -> list[CheckedRow]:
        return [row for row in self.rows if row.errors]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def total(self) -> int:
        return sum(row.amount or 0 for row in self.rows if not row.errors)

    def error_messages(self) -> list[str]:
        """Every error, each prefixed with its row number."""
        if not self.rows:
            return [_("The file has no line to import.")]
        return [
            _("Row %(row)s: %(error)s") % {"row": row.sheet.number, "error": error}
            for row in self.rows
            for error in row.errors
        ]


def _section_name(code: str) -> str:
    try:
        return str(Section(code).label)
    except ValueError:
        return code


def check_revision_rows(
    revision: BudgetRevision, rows: list[SheetRow], *, replace: bool = False
) -> ImportCheck:
    """Every row checked against the nomenclature, the year's lines and the draft.

    Reads only: a few queries for the whole file, whatever its size. Each row
    gets all its errors, so that the preview lists everything to correct at once.
    """
    year_id = revision.fiscal_year_id
    accounts = {
        account.number: account
        for account in NatureAccount.objects.filter(
            number__in={row.account for row in rows if row.account}
        ).select_related("chapter")
    }
    cost_centres = {
        centre.code: centre
        for centre in CostCentre.objects.filter(
            code__in={row.cost_centre for row in rows if row.cost_centre}
        )
    }
    projects = {
        project.code: project
        for project in Project.objects.filter(code__in={row.project for row in rows if row.project})
    }
    lines_by_code = {
        line.code: line
        for line in BudgetLine.objects.filter(
            fiscal_year_id=year_id, code__in={row.code for row in rows if row.code}
        ).select_related("nature_account", "cost_centre", "project")
    }
    # The year's lines on the accounts and cost centres of the file: a new line must not
    # take the axes of an existing one.
    axes_query = Q(pk__in=[])
    if accounts and cost_centres:
        axes_query = Q(nature_account__in=accounts.values(), cost_centre__in=cost_centres.values())
    lines_by_axes = {
        (line.nature_account_id, line.cost_centre_id, line.project_id): line
        for line in BudgetLine.objects.filter(axes_query, fiscal_year_id=year_id).only(
            "pk", "code", "nature_account_id", "cost_centre_id", "project_id"
        )
    }
    items = {
        item.budget_line_id: item
        for item in revision.items.select_related("budget_line").only(
            "pk", "amount", "justification", "budget_line__code", "budget_line_id"
        )
    }

    rows_by_code: dict[str, list[int]] = {}
    rows_by_axes: dict[tuple, list[int]] = {}
    for row in rows:
        if row.code:
            rows_by_code.setdefault(row.code, []).append(row.number)
        if row.account and row.cost_centre:
            key = (row.account, row.cost_centre, row.project)
            rows_by_axes.setdefault(key, []).append(row.number)

    label = amount_label(revision)
    checked = []
    for row in rows:
        result = CheckedRow(sheet=row)
        errors = result.errors
        code_max = BudgetLine._meta.get_field("code").max_length
        label_max = BudgetLine._meta.get_field("label").max_length

        # The line: existing (by its code in the year) or new.
        if not row.code:
            errors.append(_("The line code is missing."))
        elif len(row.code) > code_max:
            errors.append(_("The line code is longer than %(max)s characters.") % {"max": code_max})
        elif len(rows_by_code[row.code]) > 1:
            errors.append(
                _("The line code %(code)s is on several rows: %(rows)s.")
                % {"code": row.code, "rows": ", ".join(map(str, rows_by_code[row.code]))}
            )
        line = lines_by_code.get(row.code)
        result.line = line

        # The nomenclature.
        if not row.account:
            errors.append(_("The account is missing."))
        else:
            result.nature_account = accounts.get(row.account)
            if result.nature_account is None:
                errors.append(_("Unknown account %(number)s.") % {"number": row.account})
        if not row.cost_centre:
            errors.append(_("The cost centre is missing."))
        else:
            result.cost_centre = cost_centres.get(row.cost_centre)
            if result.cost_centre is None:
                errors.append(_("Unknown cost centre %(code)s.") % {"code": row.cost_centre})
        if row.project:
            result.project = projects.get(row.project)
            if result.project is None:
                errors.append(_("Unknown project %(code)s.") % {"code": row.project})
        section = row.section.strip().upper()
        if section and section not in Section.values:
            errors.append(
                _("The section must be F (operating) or I (investment), not “%(value)s”.")
                % {"value": row.section}
            )
        elif section and result.nature_account is not None:
            chapter = result.nature_account.chapter
            if chapter.section != section:
                errors.append(
                    _(
                        "Section %(section)s does not match account %(number)s, "
                        "whose chapter %(chapter)s is in the section %(expected)s."
                    )
                    % {
                        "section": section,
                        "number": result.nature_account.number,
                        "chapter": chapter.code,
                        "expected": _section_name(chapter.section),
                    }
                )
        if row.account and row.cost_centre:
            repeated = rows_by_axes[(row.account, row.cost_centre, row.project)]
            if len(repeated) > 1:
                errors.append(
                    _("The same account, cost centre and project are on several rows: %(rows)s.")
                    % {"rows": ", ".join(map(str, repeated))}
                )

        if line is not None:
            _check_existing_line(result, line)
        elif row.code:
            if not row.label:
                errors.append(
                    _("The label is missing: %(code)s is a new line.") % {"code": row.code}
                )
            elif len(row.label) > label_max:
                errors.append(
                    _("The label is longer than %(max)s characters.") % {"max": label_max}
                )
            if result.nature_account is not None and result.cost_centre is not None:
                other = lines_by_axes.get(
                    (
                        result.nature_account.pk,
                        result.cost_centre.pk,
                        result.project.pk if result.project else None,
                    )
                )
                if other is not None:
                    errors.append(
                        _(
                            "The line %(other)s already has this account, cost centre and "
                            "project: use its code."
                        )
                        % {"other": other.code}
                    )

        # The amount.
        try:
            amount = parse_francs(row.amount, label=label)
            if amount is None:
                errors.append(_("%(label)s is missing.") % {"label": label})
            else:
                result.amount = services.validate_revision_amount(revision, amount)
        except ValidationError as error:
            errors.extend(error.messages)
        if result.amount is not None and result.amount < 0 and revision.is_amending:
            if line is None:
                errors.append(
                    _("The new line %(code)s cannot start with a cut.") % {"code": row.code}
                )
            elif line.opened + result.amount < line.committed:
                # The same message as the vote's check (budgets.services).
                errors.append(
                    _(
                        "Line %(code)s: cutting %(cut)s would leave %(opened)s of credits, "
                        "below the %(committed)s already committed."
                    )
                    % {
                        "code": line.code,
                        "cut": format_xpf(-result.amount),
                        "opened": format_xpf(line.opened + result.amount),
                        "committed": format_xpf(line.committed),
                    }
                )

        item = items.get(line.pk) if line is not None else None
        result.current = item.amount if item else None
        if errors:
            result.status = ERROR
        elif line is None:
            result.status = NEW_LINE
        elif item is None:
            result.status = ADDED
        elif item.amount == result.amount and item.justification == row.justification.strip():
            result.status = UNCHANGED
        else:
            result.status = CHANGED
        checked.append(result)

    check = ImportCheck(revision=revision, rows=checked, replace=replace)
    if replace:
        kept = {row.line.pk for row in checked if row.line is not None}
        check.removed = sorted(
            (item for line_id, item in items.items() if line_id not in kept),
            key=lambda item: item.budget_line.code,
        )
    return check


def _check_existing_line(result: CheckedRow, line: BudgetLine) -> None:
    """A row naming an existing line must describe it: same account, cost centre, project."""
    row = result.sheet
    if result.nature_account is not None and line.nature_account_id != result.nature_account.pk:
        result.errors.append(
            _("The line %(code)s exists with the account %(expected)s, not %(given)s.")
            % {"code": line.code, "expected": line.nature_account.number, "given": row.account}
        )
    if result.cost_centre is not None and line.cost_centre_id != result.cost_centre.pk:
        result.errors.append(
            _("The line %(code)s exists with the cost centre %(expected)s, not %(given)s.")
            % {"code": line.code, "expected": line.cost_centre.code, "given": row.cost_centre}
        )
    given_project = result.project.pk if result.project else None
    if (row.project == "" or result.project is not None) and line.project_id != given_project:
        result.errors.append(
            _("The line %(code)s exists with the project %(expected)s, not %(given)s.")
            % {
                "code": line.code,
                "expected": line.project.code if line.project_id else _("(none)"),
                "given": row.project or _("(none)"),
            }
        )
    if row.label and row.label != line.label:
        result.notes.append(_("The line keeps its label “%(label)s”.") % {"label": line.label})

"""What every report kind is made of, and the registry of the kinds.

A kind is a class deriving from `ReportKind` and decorated with `@register`: its code
(the `Report.kind` value) and French label, the parameters it takes and how they are
validated (`clean`, which the request form, the API and the schedule all go through),
its file name, its columns as (label, type, getter) where it has tabular sheets, and
its XLSX and PDF builders. `REGISTRY` maps each code to its class; nothing else lists
the kinds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from reporting.models import Report

Progress = Callable[[int, str], None]

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"
CONTENT_TYPES = {Report.Format.XLSX: XLSX_CONTENT_TYPE, Report.Format.PDF: PDF_CONTENT_TYPE}


@dataclass(frozen=True)
class BuiltFile:
    """A finished report: its French, dated download name and the temporary file
    holding it (the caller moves or copies it into storage, then deletes it)."""

    filename: str
    path: Path
    content_type: str


class Column(NamedTuple):
    """One column of a tabular sheet: its (translated) header, its type (TEXT, AMOUNT,
    RATE, NUMBER of reporting.reports.common) and how a row gives its value."""

    label: str
    type: str
    getter: Callable[[Any], Any]


def no_progress(percent: int, note: str) -> None:
    """The progress callback of a build that nobody watches."""


def temporary_path(suffix: str) -> Path:
    """A new empty temporary file that outlives this process's handle (the caller
    of the builder deletes it once stored)."""
    with tempfile.NamedTemporaryFile(prefix="rapport-", suffix=suffix, delete=False) as file:
        return Path(file.name)


def dated_filename(base: str, fmt: str) -> str:
    """`execution-budgetaire-2026-10` -> `execution-budgetaire-2026-10_2026-11-29.xlsx`
    (the date the report was built, in Nouméa)."""
    return f"{base}_{timezone.localdate():%Y-%m-%d}.{fmt}"


class Steps:
    """Calls `progress` at most every `every` items between `start` and `end` percent."""

    def __init__(self, progress: Progress, total: int, start: int, end: int, note: str, every=50):
        self.progress = progress or no_progress
        self.total = max(total, 1)
        self.start, self.end, self.note, self.every = start, end, note, every
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.done % self.every == 0 or self.done == self.total:
            percent = (
                self.start + (self.end - self.start) * min(self.done, self.total) // self.total
            )
            self.progress(percent, self.note)


# ---------------------------------------------------------------------------
# The kinds


class ReportKind:
    """One kind of report. Subclasses set `code` and `parameters` and implement
    `filename_base`, `build_xlsx` and `build_pdf`; they may override the defaults
    (`default_year`, `default_month`) and add checks (`check`)."""

    code: ClassVar[str]
    # The French stem of the file names, e.g. "execution-budgetaire".
    stem: ClassVar[str]
    # The parameters the kind takes, in the order of the request form.
    parameters: ClassVar[tuple[str, ...]] = ("year",)
    # Which of them must be given (the others take their default or stay empty).
    required: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def label(cls) -> str:
        """The kind's French name (the `Report.Kind` choice's label)."""
        return str(Report.Kind(cls.code).label)

    # -- parameters ---------------------------------------------------------

    @classmethod
    def clean(cls, raw: Mapping | None, *, today=None) -> dict:
        """The kind's parameters read from `raw` (a form's data, a JSON body, a dict),
        validated, with their defaults: {"year": 2026, "month": 10, …}. Keys the kind
        does not take are ignored. Raises a ValidationError keyed by parameter, in
        French."""
        today = today or timezone.localdate()
        names = cls.parameters
        errors: dict[str, list[str]] = {}
        cleaned: dict = {}

        def value_of(name):
            value = raw.get(name) if raw is not None else None
            if isinstance(value, str):
                value = value.strip()
            return None if value in (None, "") else value

        year = value_of("year")
        if year is None:
            year = cls.default_year(today)
        fiscal_year = None
        try:
            fiscal_year = clean_year(year)
            cleaned["year"] = fiscal_year.year
        except ValidationError as error:
            errors["year"] = error.messages

        if "month" in names:
            month = value_of("month")
            if month is None and fiscal_year is not None:
                month = cls.default_month(fiscal_year.year, today)
            if month is not None:
                try:
                    cleaned["month"] = clean_month(month)
                except ValidationError as error:
                    errors["month"] = error.messages

        if "section" in names:
            section = value_of("section")
            if section is not None:
                from budgets.models import Section

                section = str(section).upper()
                if section not in Section.values:
                    errors["section"] = [
                        _("Unknown section: “%(value)s”.") % {"value": value_of("section")}
                    ]
                else:
                    cleaned["section"] = section

        if "chapter" in names:
            chapter = value_of("chapter")
            if chapter is not None:
                from budgets.models import Chapter

                chapter = str(chapter)
                found = Chapter.objects.filter(code=chapter).first()
                if found is None:
                    errors["chapter"] = [_("Unknown chapter: “%(value)s”.") % {"value": chapter}]
                elif cleaned.get("section") and found.section != cleaned["section"]:
                    errors["chapter"] = [
                        _("The chapter %(chapter)s does not belong to this section.")
                        % {"chapter": chapter}
                    ]
                else:
                    cleaned["chapter"] = found.code

        cls.check(cleaned, errors, today)
        for name in cls.required:
            if name not in cleaned and name not in errors:
                errors[name] = [_("This parameter is required.")]
        if errors:
            raise ValidationError(errors)
        return cleaned

    @classmethod
    def default_year(cls, today) -> int | None:
        """The year when none is asked for; None: the current fiscal year."""
        return None

    @classmethod
    def default_month(cls, year: int, today) -> int | None:
        """The month when none is asked for; None: no month."""
        return None

    @classmethod
    def check(cls, cleaned: dict, errors: dict, today) -> None:
        """Checks across parameters, adding French messages to `errors`."""

    # -- output ---------------------------------------------------------------

    @classmethod
    def filename_base(cls, parameters: dict) -> str:
        """The French stem of the file's name, e.g. `execution-budgetaire-2026-10`."""
        raise NotImplementedError

    @classmethod
    def columns(cls) -> list[Column]:
        """The columns of the kind's main tabular sheet (empty when it has none)."""
        return []

    @classmethod
    def build_xlsx(cls, *, parameters: dict, progress: Progress = no_progress, actor=None):
        raise NotImplementedError

    @classmethod
    def build_pdf(cls, *, parameters: dict, progress: Progress = no_progress, actor=None):
        raise NotImplementedError

    @classmethod
    def builder(cls, fmt: str) -> Callable[..., BuiltFile]:
        """The kind's builder of `fmt` ("xlsx" or "pdf")."""
        return {Report.Format.XLSX: cls.build_xlsx, Report.Format.PDF: cls.build_pdf}[fmt]


REGISTRY: dict[str, type[ReportKind]] = {}


def register(kind: type[ReportKind]) -> type[ReportKind]:
    """Class decorator: adds `kind` to REGISTRY under its code (once)."""
    if kind.code not in Report.Kind.values:
        raise ValueError(f"{kind.__name__}: {kind.code!r} is not a Report.Kind value")
    if str(kind.code) in REGISTRY and REGISTRY[str(kind.code)] is not kind:
        raise ValueError(f"Report kind {kind.code!r} registered twice")
    REGISTRY[str(kind.code)] = kind
    return kind


# ---------------------------------------------------------------------------
# Parameter validation shared by the kinds


def clean_year(value):
    """The FiscalYear asked for (the current one for None), or a French ValidationError."""
    from budgets.models import FiscalYear
    from budgets.selectors import current_fiscal_year

    if value is None:
        fiscal_year = current_fiscal_year()
        if fiscal_year is None:
            raise ValidationError(_("There is no fiscal year yet."), code="year")
        return fiscal_year
    year = as_int(value)
    if year is None:
        raise ValidationError(
            _("The year is not a number: “%(value)s”.") % {"value": value}, code="year"
        )
    fiscal_year = FiscalYear.objects.filter(year=year).first()
    if fiscal_year is None:
        raise ValidationError(
            _("The fiscal year %(year)s does not exist.") % {"year": year}, code="year"
        )
    return fiscal_year


def clean_month(value) -> int:
    month = as_int(value)
    if month is None:
        raise ValidationError(
            _("The month is not a number: “%(value)s”.") % {"value": value}, code="month"
        )
    if not 1 <= month <= 12:
        raise ValidationError(_("The month must be between 1 and 12."), code="month")
    return month


def as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(str(value).strip())
    except ValueError:
        return None

"""The controlling reports: one module per kind builds its XLSX and its PDF.

The interface the Report lifecycle (task, pages, API) calls:

- `kind_parameters(kind)`: the parameters a kind takes, for the request form;
- `clean_parameters(kind, raw)`: those parameters validated, as JSON-serialisable
  values to store in `Report.parameters`, or a ValidationError whose messages are
  French and keyed by parameter ("kind", "year", "month", "section", "chapter");
- `builder_for(kind, fmt)`: the function that builds the file, called as
  `builder(parameters=…, progress=…)` and returning a `BuiltFile` whose temporary
  file the caller moves into storage (and deletes).

Parameters (all optional; what is left out takes its default):
- year: the fiscal year (an int); defaults to the current fiscal year, and for the
  monthly report to the year of the last complete month;
- month (monthly execution, variance): 1–12; the monthly report defaults to the last
  complete month in Nouméa (of the year asked for: December for a past year) and
  refuses a month that has not begun; the variance analysis defaults to none (the
  latest forecasts);
- section ("F" or "I") and chapter (a chapter code), DISCO only: filters.
"""

from __future__ import annotations

import functools
import importlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reporting.models import Report
from reporting.selectors.execution import last_complete_month, month_started

Progress = Callable[[int, str], None]

# The parameters each kind takes, in the order of the request form.
PARAMETERS: dict[str, tuple[str, ...]] = {
    Report.Kind.DISCO: ("year", "section", "chapter"),
    Report.Kind.MONTHLY_EXECUTION: ("year", "month"),
    Report.Kind.VARIANCE: ("year", "month"),
    Report.Kind.PROVISIONS: ("year",),
}
# Which of them the form must ask for (the others may stay empty).
REQUIRED: dict[str, tuple[str, ...]] = {
    Report.Kind.DISCO: (),
    Report.Kind.MONTHLY_EXECUTION: (),
    Report.Kind.VARIANCE: (),
    Report.Kind.PROVISIONS: (),
}
MODULES = {
    Report.Kind.DISCO: "disco",
    Report.Kind.MONTHLY_EXECUTION: "monthly_execution",
    Report.Kind.VARIANCE: "variance",
    Report.Kind.PROVISIONS: "provisions",
}

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


def kind_parameters(kind: str) -> list[str]:
    """The parameters `kind` takes, for the request form (empty for an unknown kind)."""
    return list(PARAMETERS.get(kind, ()))


def required_parameters(kind: str) -> list[str]:
    return list(REQUIRED.get(kind, ()))


def clean_parameters(kind: str, raw: Mapping) -> dict:
    """The parameters of `kind` read from `raw` (a form's data, a JSON body, a dict),
    validated, with their defaults: {"year": 2026, "month": 10, …}. Keys that the
    kind does not take are ignored. Raises a ValidationError keyed by parameter."""
    if kind not in PARAMETERS:
        raise ValidationError(
            {"kind": _("Unknown report kind: “%(kind)s”.") % {"kind": kind}}, code="kind"
        )
    names = PARAMETERS[kind]
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def value_of(name):
        value = raw.get(name) if raw is not None else None
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "") else value

    monthly = kind == Report.Kind.MONTHLY_EXECUTION
    today = timezone.localdate()
    year = value_of("year")
    if year is None and monthly:
        # The year of the last complete month, if it is in the books (else the current one).
        default = monthly_default(today)
        year = default[0] if default else None
    fiscal_year = None
    try:
        fiscal_year = _clean_year(year)
        cleaned["year"] = fiscal_year.year
    except ValidationError as error:
        errors["year"] = error.messages

    if "month" in names:
        month = value_of("month")
        if month is None and monthly and fiscal_year is not None:
            month = default_month(fiscal_year.year, today)
        if month is not None:
            try:
                cleaned["month"] = _clean_month(month)
            except ValidationError as error:
                errors["month"] = error.messages
        asked = (cleaned.get("year"), cleaned.get("month"))
        if monthly and None not in asked and not month_started(*asked, today):
            errors["month"] = [future_month_message(*asked, today)]

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

    for name in REQUIRED[kind]:
        if name not in cleaned and name not in errors:
            errors[name] = [_("This parameter is required.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def monthly_default(today) -> tuple[int, int] | None:
    """(year, month) the monthly report is about when nothing is asked: the last complete
    month on `today`, when its fiscal year is in the books (else None)."""
    from budgets.models import FiscalYear

    year, month = last_complete_month(today)
    return (year, month) if FiscalYear.objects.filter(year=year).exists() else None


def default_month(year: int, today) -> int:
    """The monthly report's month when none is asked for: the last complete month of
    `year` on `today` (December for a past year); for the current year in January, when
    no month is complete yet, January (under way); for a year to come, January (which
    the caller then refuses as not begun)."""
    last_year, last_month = last_complete_month(today)
    if year < last_year:
        return 12
    if year == last_year:
        return last_month
    return today.month if year == today.year else 1


def future_month_message(year: int, month: int, today) -> str:
    """The French refusal of a month that has not begun."""
    from datetime import date

    from django.utils.formats import date_format

    return _(
        "The month of %(month)s has not begun yet: choose a month up to %(current)s "
        "(the month under way)."
    ) % {
        "month": date_format(date(year, month, 1), "F Y"),
        "current": date_format(today, "F Y"),
    }


def _clean_year(value):
    from budgets.models import FiscalYear
    from budgets.selectors import current_fiscal_year

    if value is None:
        fiscal_year = current_fiscal_year()
        if fiscal_year is None:
            raise ValidationError(_("There is no fiscal year yet."), code="year")
        return fiscal_year
    year = _as_int(value)
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


def _clean_month(value) -> int:
    month = _as_int(value)
    if month is None:
        raise ValidationError(
            _("The month is not a number: “%(value)s”.") % {"value": value}, code="month"
        )
    if not 1 <= month <= 12:
        raise ValidationError(_("The month must be between 1 and 12."), code="month")
    return month


def _as_int(value) -> int | None:
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


def builder_for(kind: str, fmt: str) -> Callable[..., BuiltFile]:
    """The function that builds a `kind` report as `fmt`:
    `builder(parameters=clean_parameters(…), progress=lambda percent, note: …)`."""
    if kind not in MODULES:
        raise ValidationError(_("Unknown report kind: “%(kind)s”.") % {"kind": kind}, code="kind")
    if fmt not in CONTENT_TYPES:
        raise ValidationError(
            _("Unknown report format: “%(format)s”.") % {"format": fmt}, code="format"
        )
    module = importlib.import_module(f"{__name__}.{MODULES[kind]}")
    build = getattr(module, f"build_{fmt}")

    @functools.wraps(build)
    def builder(*, parameters: dict, progress: Progress = None, actor=None) -> BuiltFile:
        # In French whatever the worker's language: file names, sheets, headers.
        with translation.override("fr"):
            return build(parameters=parameters, progress=progress or no_progress, actor=actor)

    return builder


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

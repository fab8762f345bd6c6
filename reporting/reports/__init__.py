"""The controlling reports: one class per kind (reporting.reports.base.ReportKind), in
its own module, builds its XLSX and its PDF; REGISTRY maps each `Report.kind` to its class.

The interface the Report lifecycle (task, pages, API) calls:

- `report_kind(kind)`: the kind's class (code, label, parameters, file name, columns,
  builders), or a ValidationError for an unknown kind;
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
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from .base import (
    CONTENT_TYPES,
    PDF_CONTENT_TYPE,
    REGISTRY,
    XLSX_CONTENT_TYPE,
    BuiltFile,
    Column,
    Progress,
    ReportKind,
    Steps,
    dated_filename,
    no_progress,
    temporary_path,
)

# Importing the kinds' modules registers their classes (in the request form's order).
from .disco import DiscoReport
from .monthly_execution import (
    MonthlyExecutionReport,
    default_month,
    future_month_message,
    monthly_default,
)
from .provisions import ProvisionsReport
from .variance import VarianceReport

__all__ = [
    "CONTENT_TYPES",
    "PDF_CONTENT_TYPE",
    "REGISTRY",
    "XLSX_CONTENT_TYPE",
    "BuiltFile",
    "Column",
    "DiscoReport",
    "MonthlyExecutionReport",
    "Progress",
    "ProvisionsReport",
    "ReportKind",
    "Steps",
    "VarianceReport",
    "builder_for",
    "clean_parameters",
    "dated_filename",
    "default_month",
    "future_month_message",
    "kind_parameters",
    "monthly_default",
    "no_progress",
    "report_kind",
    "required_parameters",
    "temporary_path",
]


def report_kind(kind: str) -> type[ReportKind]:
    """The class of `kind`, or a ValidationError (French, keyed "kind")."""
    try:
        return REGISTRY[kind]
    except (KeyError, TypeError):
        raise ValidationError(
            {"kind": _("Unknown report kind: “%(kind)s”.") % {"kind": kind}}, code="kind"
        ) from None


def kind_parameters(kind: str) -> list[str]:
    """The parameters `kind` takes, for the request form (empty for an unknown kind)."""
    found = REGISTRY.get(kind)
    return list(found.parameters) if found else []


def required_parameters(kind: str) -> list[str]:
    found = REGISTRY.get(kind)
    return list(found.required) if found else []


def clean_parameters(kind: str, raw: Mapping) -> dict:
    """The parameters of `kind` read from `raw` (a form's data, a JSON body, a dict),
    validated, with their defaults: {"year": 2026, "month": 10, …}. Keys that the
    kind does not take are ignored. Raises a ValidationError keyed by parameter."""
    return report_kind(kind).clean(raw)


def builder_for(kind: str, fmt: str) -> Callable[..., BuiltFile]:
    """The function that builds a `kind` report as `fmt`:
    `builder(parameters=clean_parameters(…), progress=lambda percent, note: …)`."""
    if kind not in REGISTRY:
        raise ValidationError(_("Unknown report kind: “%(kind)s”.") % {"kind": kind}, code="kind")
    if fmt not in CONTENT_TYPES:
        raise ValidationError(
            _("Unknown report format: “%(format)s”.") % {"format": fmt}, code="format"
        )
    build = REGISTRY[kind].builder(fmt)

    @functools.wraps(build)
    def builder(*, parameters: dict, progress: Progress = None, actor=None) -> BuiltFile:
        # In French whatever the worker's language: file names, sheets, headers.
        with translation.override("fr"):
            return build(parameters=parameters, progress=progress or no_progress, actor=actor)

    return builder

"""BP, DM1 and DM2: the list, the revision editor, submission and vote.

The editor shows every line of the year with its opened credits before the
revision, the proposed amount or change, the new amount and the justification,
by section with their totals. In a draft, `pilotage` edits each line in place
(htmx posts one row and gets back the row and the refreshed totals) and adds new
lines; `direction` submits, sends back and votes. Every write is one service
call; a refused one is answered with the service's French message.
"""

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from dsi_finance.exports import XlsxExportMixin
from dsi_finance.money import format_xpf
from dsi_finance.roles import perm
from dsi_finance.views import CapabilityRequiredMixin

from .. import services
from ..exports import REVISION_EXPORT
from ..forms import RevisionCreateForm, RevisionItemForm, RevisionLineForm, RevisionVoteForm
from ..models import BudgetLine, BudgetRevision, FiscalYear, Section
from ..selectors import (
    document_entries_summary,
    fiscal_years,
    revision_editor_rows,
    revision_section_totals,
    revisions,
)
from ..xlsx import amount_for_input

EDITABLE_YEAR_STATES = (FiscalYear.State.PREPARATION, FiscalYear.State.OPEN)


def _may(user, capability: str) -> bool:
    return user.has_perm(perm(capability))


def _errors_of(error: ValidationError) -> list[str]:
    return list(error.messages)


# ---------------------------------------------------------------------------
# The list


class RevisionListView(CapabilityRequiredMixin, XlsxExportMixin, TemplateView):
    """Per fiscal year its BP, DM1 and DM2, and the next one to prepare."""

    capability = "view_all"
    template_name = "budgets/revision_list.html"
    export_columns = REVISION_EXPORT
    export_name = "budget-revisions"
    export_title = gettext_lazy("Budget and amending decisions")

    def get_export_queryset(self):
        return revisions(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        by_year: dict[int, dict[str, BudgetRevision]] = {}
        for revision in revisions(actor=user):
            by_year.setdefault(revision.fiscal_year_id, {})[revision.kind] = revision
        may_prepare = _may(user, "prepare_budget")
        years = []
        for year in fiscal_years(actor=user):
            existing = by_year.get(year.pk, {})
            next_kind = next(
                (kind for kind in BudgetRevision.SEQUENCE if kind not in existing), None
            )
            years.append(
                {
                    "year": year,
                    "rows": [
                        {"kind": kind, "label": kind.label, "revision": existing.get(kind)}
                        for kind in BudgetRevision.SEQUENCE
                    ],
                    "next_kind": next_kind
                    if may_prepare and year.state in EDITABLE_YEAR_STATES
                    else None,
                }
            )
        context["years"] = years
        return context


class RevisionCreateView(CapabilityRequiredMixin, View):
    http_method_names = ["post"]
    capability = "prepare_budget"

    def post(self, request):
        form = RevisionCreateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a fiscal year and a kind of revision."))
            return redirect("budgets:revision-list")
        try:
            revision = services.revision_create(
                user=request.user,
                fiscal_year=form.cleaned_data["fiscal_year"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as error:
            for message in _errors_of(error):
                messages.error(request, message)
            return redirect("budgets:revision-list")
        messages.success(
            request,
            _("%(revision)s: draft created; enter its amounts.") % {"revision": revision},
        )
        return redirect(revision)


# ---------------------------------------------------------------------------
# The editor


def _get_revision(pk) -> BudgetRevision:
    return get_object_or_404(
        BudgetRevision.objects.select_related("fiscal_year", "created_by", "voted_by"), pk=pk
    )


def _cut_warnings(revision: BudgetRevision, rows) -> list[str]:
    """The DM cuts that would leave a line's credits below what is committed on it."""
    if not revision.is_amending or revision.state == BudgetRevision.State.VOTED:
        return []
    warnings = []
    for row in rows:
        if row.change is not None and row.change < 0 and row.new_amount < row.line.committed:
            # The same message as the vote's refusal (budgets.services).
            warnings.append(
                _(
                    "Line %(code)s: cutting %(cut)s would leave %(opened)s of credits, "
                    "below the %(committed)s already committed."
                )
                % {
                    "code": row.line.code,
                    "cut": format_xpf(-row.change),
                    "opened": format_xpf(row.new_amount),
                    "committed": format_xpf(row.line.committed),
                }
            )
    if revision.fiscal_year.control_level == FiscalYear.ControlLevel.CHAPTER:
        # Credits are pooled by chapter: the vote also checks each chapter's total.
        chapters: dict[str, list[int]] = {}
        for row in rows:
            figures = chapters.setdefault(row.line.nature_account.chapter.code, [0, 0, 0])
            figures[0] += row.previous
            figures[1] += row.line.committed
            figures[2] += row.change or 0
        for code, (opened, committed, change) in sorted(chapters.items()):
            if change < 0 and opened + change < committed:
                # The same message as the vote's refusal (budgets.services).
                warnings.append(
                    _(
                        "Chapter %(code)s: this decision would leave %(opened)s of credits, "
                        "below the %(committed)s already committed."
                    )
                    % {
                        "code": code,
                        "opened": format_xpf(opened + change),
                        "committed": format_xpf(committed),
                    }
                )
    return warnings


def _ledger_summary(revision: BudgetRevision) -> dict:
    """What the vote posted: the revision's ledger entries, counted and summed."""
    return document_entries_summary(document=revision)


def _sections(rows) -> list[dict]:
    totals = revision_section_totals(rows)
    sections = []
    for section in Section:
        section_rows = [row for row in rows if row.line.section == section.value]
        sections.append(
            {
                "code": section.value,
                "label": section.label,
                "rows": section_rows,
                "totals": totals.get(section.value, {"previous": 0, "change": 0, "new": 0}),
            }
        )
    return sections


def _grand_total(sections) -> dict:
    return {
        key: sum(section["totals"][key] for section in sections)
        for key in ("previous", "change", "new")
    }


def _prepare_rows(rows) -> None:
    """What the row template shows in its form: the amount as typed, no error yet."""
    for row in rows:
        row.amount_input = amount_for_input(row.change)
        row.justification_input = row.justification
        row.errors = []
        row.saved = False


def editor_context(request, revision: BudgetRevision, **extra) -> dict:
    user = request.user
    rows = revision_editor_rows(actor=user, revision=revision)
    _prepare_rows(rows)
    sections = _sections(rows)
    draft = revision.state == BudgetRevision.State.DRAFT
    may_edit = draft and _may(user, "prepare_budget")
    may_decide = _may(user, "submit_budget")
    context = {
        "revision": revision,
        "sections": sections,
        "grand": _grand_total(sections),
        "item_count": sum(1 for row in rows if row.change is not None),
        "warnings": _cut_warnings(revision, rows),
        "may_edit": may_edit,
        "may_import": may_edit,
        "may_submit": draft and may_decide,
        "may_return": revision.state == BudgetRevision.State.SUBMITTED and may_decide,
        "may_vote": revision.state == BudgetRevision.State.SUBMITTED and may_decide,
        "ledger": _ledger_summary(revision)
        if revision.state == BudgetRevision.State.VOTED
        else None,
        "amount_title": _("Change") if revision.is_amending else _("Amount"),
    }
    if may_edit and "line_form" not in extra:
        context["line_form"] = RevisionLineForm(revision)
    if context["may_vote"]:
        context["vote_form"] = RevisionVoteForm()
    context.update(extra)
    return context


class RevisionDetailView(CapabilityRequiredMixin, TemplateView):
    """The editor; read-only once submitted or voted, or for those who may not prepare."""

    capability = "view_all"
    template_name = "budgets/revision_detail.html"

    def get_context_data(self, **kwargs):
        revision = _get_revision(kwargs["pk"])
        return {**super().get_context_data(**kwargs), **editor_context(self.request, revision)}


class RevisionItemSetView(CapabilityRequiredMixin, View):
    """One row of the editor posted: set the amount and justification, or take the line
    out of the draft when the amount is emptied. htmx gets the row back with the
    section totals (out of band); a plain form post is redirected to the editor."""

    http_method_names = ["post"]
    capability = "prepare_budget"

    def post(self, request, pk, line_pk):
        revision = _get_revision(pk)
        line = get_object_or_404(BudgetLine, pk=line_pk, fiscal_year_id=revision.fiscal_year_id)
        form = RevisionItemForm(revision, request.POST)
        if form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                if amount is None:
                    services.revision_item_remove(
                        user=request.user, revision=revision, budget_line=line
                    )
                else:
                    services.revision_item_set(
                        user=request.user,
                        revision=revision,
                        budget_line=line,
                        amount=amount,
                        justification=form.cleaned_data["justification"],
                    )
            except ValidationError as error:
                form.add_error("amount", _errors_of(error))
        errors = [message for messages_ in form.errors.values() for message in messages_]
        if not request.htmx:
            for message in errors:
                messages.error(
                    request, _("%(field)s: %(error)s") % {"field": line.code, "error": message}
                )
            if not errors:
                messages.success(request, _("Line %(code)s saved.") % {"code": line.code})
            return redirect(
                reverse("budgets:revision-detail", args=[revision.pk]) + f"#line-{line.pk}"
            )
        return self._htmx_answer(request, revision, line, form, errors)

    def _htmx_answer(self, request, revision, line, form, errors):
        revision.refresh_from_db()
        # Fresh ids for the swapped fields: htmx would otherwise copy the old fields'
        # style attribute (a resized textarea) onto the new ones, which the CSP refuses.
        context = editor_context(request, revision, id_suffix=f"-{secrets.token_hex(3)}")
        rows = [row for section in context["sections"] for row in section["rows"]]
        (row,) = [row for row in rows if row.line.pk == line.pk]
        if errors:
            # The row as the person typed it, with what is wrong; nothing else changed.
            row.amount_input = request.POST.get("amount", "")
            row.justification_input = request.POST.get("justification", "")
            row.errors = errors
            html = render_to_string(
                "budgets/partials/revision_row.html", {**context, "row": row}, request=request
            )
            return HttpResponse(html)
        row.saved = True
        section = next(s for s in context["sections"] if s["code"] == line.section)
        html = render_to_string(
            "budgets/partials/revision_row.html", {**context, "row": row}, request=request
        )
        # Out-of-band parts each in a <template>: a <div> after a <tr> would otherwise be
        # parsed as table content and land in the wrong place.
        for name, extra in (
            ("revision_section_total", {"section": section}),
            ("revision_summary", {}),
        ):
            part = render_to_string(
                f"budgets/partials/{name}.html", {**context, **extra, "oob": True}, request=request
            )
            html += f"<template>{part}</template>"
        return HttpResponse(html)


class RevisionLineCreateView(CapabilityRequiredMixin, View):
    """A new budget line with its amount in the draft: both or neither."""

    http_method_names = ["post"]
    capability = "prepare_budget"

    def post(self, request, pk):
        revision = _get_revision(pk)
        form = RevisionLineForm(revision, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    line = services.budget_line_create(
                        user=request.user,
                        fiscal_year=revision.fiscal_year,
                        code=data["code"],
                        label=data["label"],
                        nature_account=data["nature_account"],
                        cost_centre=data["cost_centre"],
                        project=data["project"],
                    )
                    services.revision_item_set(
                        user=request.user,
                        revision=revision,
                        budget_line=line,
                        amount=data["amount"],
                        justification=data["justification"],
                    )
            except ValidationError as error:
                revision.refresh_from_db()
                if revision.state != BudgetRevision.State.DRAFT:
                    # Frozen meanwhile: the page has no form any more, say it on top.
                    for message in _errors_of(error):
                        messages.error(request, message)
                    return redirect(revision)
                form.add_error(None, _errors_of(error))
            else:
                messages.success(
                    request,
                    _("Line %(code)s created with %(amount)s (%(revision)s).")
                    % {
                        "code": line.code,
                        "amount": format_xpf(data["amount"]),
                        "revision": revision,
                    },
                )
                return redirect(
                    reverse("budgets:revision-detail", args=[revision.pk]) + f"#line-{line.pk}"
                )
        revision.refresh_from_db()
        context = editor_context(request, revision, line_form=form, line_form_open=True)
        return render(request, "budgets/revision_detail.html", context)


# ---------------------------------------------------------------------------
# Submission, return to draft and vote


class RevisionActionView(CapabilityRequiredMixin, View):
    """POST one step of the revision's life; the service checks the rules."""

    http_method_names = ["post"]
    capability = "submit_budget"
    action = ""

    def post(self, request, pk):
        revision = _get_revision(pk)
        try:
            if self.action == "submit":
                services.revision_submit(user=request.user, revision=revision)
                messages.success(
                    request, _("%(revision)s: submission recorded.") % {"revision": revision}
                )
            elif self.action == "return":
                services.revision_return_to_draft(user=request.user, revision=revision)
                messages.success(
                    request, _("%(revision)s: sent back to draft.") % {"revision": revision}
                )
            else:
                self._vote(request, revision)
        except ValidationError as error:
            for message in _errors_of(error):
                messages.error(request, message)
        return redirect(revision)

    def _vote(self, request, revision):
        form = RevisionVoteForm(request.POST)
        if not form.is_valid():
            raise ValidationError(
                [
                    _("%(field)s: %(error)s") % {"field": form.fields[name].label, "error": error}
                    for name, errors in form.errors.items()
                    for error in errors
                ]
            )
        revision = services.revision_vote(user=request.user, revision=revision, **form.cleaned_data)
        posted = _ledger_summary(revision)
        messages.success(
            request,
            ngettext(
                "%(revision)s: vote recorded, %(count)d line posted to the ledger, %(total)s in all.",
                "%(revision)s: vote recorded, %(count)d lines posted to the ledger, %(total)s in all.",
                posted["count"],
            )
            % {
                "revision": revision,
                "count": posted["count"],
                "total": format_xpf(posted["total"]),
            },
        )


urlpatterns = [
    path("revisions/", RevisionListView.as_view(), name="revision-list"),
    path("revisions/create/", RevisionCreateView.as_view(), name="revision-create"),
    path("revisions/<int:pk>/", RevisionDetailView.as_view(), name="revision-detail"),
    path(
        "revisions/<int:pk>/lines/<int:line_pk>/",
        RevisionItemSetView.as_view(),
        name="revision-item-set",
    ),
    path(
        "revisions/<int:pk>/lines/new/",
        RevisionLineCreateView.as_view(),
        name="revision-line-create",
    ),
    path(
        "revisions/<int:pk>/submit/",
        RevisionActionView.as_view(action="submit"),
        name="revision-submit",
    ),
    path(
        "revisions/<int:pk>/return/",
        RevisionActionView.as_view(action="return"),
        name="revision-return",
    ),
    path(
        "revisions/<int:pk>/vote/",
        RevisionActionView.as_view(action="vote"),
        name="revision-vote",
    ),
]

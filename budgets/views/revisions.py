"""BP, DM1 and DM2: the list, the revision editor, submission and vote.

The editor shows the lines of the year with their opened credits before the
revision, the proposed amount or change, the new amount and the justification,
by section with their totals; "changed lines only" keeps the lines that have an
item in the revision (the default once the revision is submitted or voted). In a
draft, `pilotage` types in as many rows as needed and saves them all at once
(one POST, all or nothing; static/budgets/revisions.js recomputes the new amounts
as they are typed and warns before unsaved rows are lost) and adds new lines;
`direction` submits, sends back and votes. Every write is one service call; a
refused one is answered with the service's French message.
"""

import re

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from dsi_finance.exports import XlsxExportMixin
from dsi_finance.home import active_queue
from dsi_finance.idempotency import once_from_form
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

# The editor's filter (?show=): every line of the year, or those with an item.
SHOW_ALL, SHOW_CHANGED = "all", "changed"
SHOW_CHOICES = (SHOW_ALL, SHOW_CHANGED)
# A row's fields in the editor's "save all" form: line-<line id>-amount, -justification.
ROW_FIELD = re.compile(r"line-(?P<line>\d{1,18})-(?P<field>amount|justification)")
MAX_ROWS = 5000  # a year's lines are a few hundred; more in one POST is no editor's


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
        queue = active_queue(self.request, "budgets:revision-list")
        if queue is not None:
            # Opened from a home queue (?queue=): only its revisions, in one list.
            context.update(
                home_queue=queue,
                list_url=reverse("budgets:revision-list"),
                queue_revisions=list(queue.selector(user)),
                years=[],
            )
            return context
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


def _prepare_rows(rows, posted: dict, problems: dict) -> None:
    """What each row shows in its fields: what is saved, or what was typed in a "save
    all" that was refused (with the row's messages); `amount_saved` lets the page's
    script tell an edited row from a saved one."""
    for row in rows:
        row.amount_saved = amount_for_input(row.change)
        typed = posted.get(row.line.pk)
        row.amount_input = row.amount_saved if typed is None else typed["amount"]
        row.justification_input = row.justification if typed is None else typed["justification"]
        row.errors = problems.get(row.line.pk, [])


def default_show(revision: BudgetRevision) -> str:
    """A draft is edited line by line: all of them; once submitted or voted only the
    lines the revision changes matter (21 of 150 in a DM)."""
    return SHOW_ALL if revision.state == BudgetRevision.State.DRAFT else SHOW_CHANGED


def editor_context(
    request,
    revision: BudgetRevision,
    *,
    show: str | None = None,
    posted: dict | None = None,
    problems: dict | None = None,
    **extra,
) -> dict:
    """The editor's page. `show` is the filter ("all" or "changed", else the revision's
    default); `posted` and `problems` (by line id) are a refused "save all": its rows
    are shown as typed, even those the filter would hide."""
    user = request.user
    posted, problems = posted or {}, problems or {}
    # The filter chosen in the URL, kept through a "save all" (none: the default).
    show_param = show if show in SHOW_CHOICES else ""
    show = show_param or default_show(revision)
    rows = revision_editor_rows(actor=user, revision=revision)
    _prepare_rows(rows, posted, problems)
    # Totals and warnings are the whole revision's, whatever the filter shows.
    totals = _sections(rows)
    shown = rows
    if show == SHOW_CHANGED:
        shown = [row for row in rows if row.change is not None or row.line.pk in posted]
    sections = _sections(shown)
    for section, total in zip(sections, totals, strict=True):
        section["totals"] = total["totals"]
    draft = revision.state == BudgetRevision.State.DRAFT
    may_edit = draft and _may(user, "prepare_budget")
    may_decide = _may(user, "submit_budget")
    context = {
        "revision": revision,
        "sections": sections,
        "grand": _grand_total(sections),
        "item_count": sum(1 for row in rows if row.change is not None),
        "line_count": len(rows),
        "shown_count": len(shown),
        "show": show,
        "show_param": show_param,
        "show_changed": show == SHOW_CHANGED,
        "problems": [{"line": row.line, "errors": row.errors} for row in shown if row.errors],
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
        # Each amount field echoes the server's reading as it is typed (static/js/francs.js).
        "francs_echo_url": reverse("francs-echo"),
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
        return {
            **super().get_context_data(**kwargs),
            **editor_context(self.request, revision, show=self.request.GET.get("show")),
        }


class RevisionItemsSaveView(CapabilityRequiredMixin, View):
    """The editor's "save all": every edited row in one POST, saved all or nothing by
    one service call (services.revision_items_set).

    Each row posts `line-<id>-amount` and `line-<id>-justification` (the page's script
    posts only the rows that were changed; a row equal to what is saved changes
    nothing anyway). An emptied amount takes the line out of the draft. Any faulty
    row: nothing is saved and the editor comes back with every faulty row's message
    in place and all the typed values. A one-time token makes a double submission
    record once.
    """

    http_method_names = ["post"]
    capability = "prepare_budget"

    def post(self, request, pk):
        revision = _get_revision(pk)
        show = request.POST.get("show", "")
        posted = _posted_rows(request.POST)
        lines = BudgetLine.objects.filter(
            pk__in=list(posted), fiscal_year_id=revision.fiscal_year_id
        ).in_bulk()
        if set(posted) - set(lines):
            raise BadRequest(_("The editor's rows do not belong to this revision's year."))
        changes, problems = [], {}
        for line_id, data in posted.items():
            form = RevisionItemForm(revision, data)
            if form.is_valid():
                changes.append(
                    services.RevisionItemChange(
                        budget_line=lines[line_id],
                        amount=form.cleaned_data["amount"],
                        justification=form.cleaned_data["justification"],
                    )
                )
            else:
                problems[line_id] = [m for messages_ in form.errors.values() for m in messages_]
        if not problems and not changes:
            messages.info(request, _("No line was changed: nothing to save."))
            return redirect(_detail_url(revision, show))
        if problems and revision.state == BudgetRevision.State.DRAFT:
            # Reading errors, and the item rules of the rows that were read, all at once.
            # (A frozen revision goes on to the service, which says it is frozen.)
            for line_id, found in services.revision_items_check(
                revision=revision, items=changes
            ).items():
                problems.setdefault(line_id, []).extend(found)
            return self._refused(request, revision, posted, problems, show)
        outcome = {}

        def save():
            outcome["result"] = services.revision_items_set(
                user=request.user, revision=revision, items=changes
            )
            return revision

        try:
            _revision, created = once_from_form(request, "budgets.revision-items-set", save)
        except services.RevisionItemsError as error:
            return self._refused(request, revision, posted, error.by_line, show)
        except ValidationError as error:  # a frozen revision: the page has no form any more
            for message in _errors_of(error):
                messages.error(request, message)
            return redirect(_detail_url(revision, show))
        if created and not outcome["result"].touched:
            messages.info(request, _("No line was changed: nothing to save."))
        elif created:
            result = outcome["result"]
            messages.success(
                request,
                ngettext(
                    "%(revision)s: %(count)d line saved (%(created)d added, %(changed)d "
                    "changed, %(removed)d taken out).",
                    "%(revision)s: %(count)d lines saved (%(created)d added, %(changed)d "
                    "changed, %(removed)d taken out).",
                    result.touched,
                )
                % {
                    "revision": revision,
                    "count": result.touched,
                    "created": result.created,
                    "changed": result.changed,
                    "removed": result.removed,
                },
            )
        return redirect(_detail_url(revision, show))

    def _refused(self, request, revision, posted, problems, show):
        """The editor again: nothing saved, every faulty row with its messages, every
        posted row as it was typed (still to save)."""
        revision.refresh_from_db()
        context = editor_context(request, revision, show=show, posted=posted, problems=problems)
        return render(request, "budgets/revision_detail.html", context)


def _posted_rows(data) -> dict[int, dict[str, str]]:
    """{line id: {"amount": …, "justification": …}} from `line-<id>-<field>` names."""
    rows: dict[int, dict[str, str]] = {}
    for name in data:
        match = ROW_FIELD.fullmatch(name)
        if match is None:
            continue
        rows.setdefault(int(match["line"]), {"amount": "", "justification": ""})[match["field"]] = (
            data.get(name, "")
        )
    if len(rows) > MAX_ROWS:
        raise BadRequest(_("Too many rows in one save."))
    return rows


def _detail_url(revision: BudgetRevision, show: str = "") -> str:
    url = reverse("budgets:revision-detail", args=[revision.pk])
    return f"{url}?show={show}" if show in SHOW_CHOICES else url


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
        "revisions/<int:pk>/items/",
        RevisionItemsSaveView.as_view(),
        name="revision-items-save",
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

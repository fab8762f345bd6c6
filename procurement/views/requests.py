"""Purchase requests (demandes d'achat): the list (mine, to approve, all), the entry
form with its lines and their live availability, the detail page with its
decisions, attachments, ledger entries and history.

Thin views: each finds the request through the selectors, validates a form, calls
one service of procurement.services.requests and redirects with a French message.
A refusal of the service (ProcurementError, CreditsShortError) is shown in the
form or as an error message and changes nothing.
"""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views import View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from budgets import selectors as budget_selectors
from budgets.services import CreditsShortError
from dsi_finance.errors import ServiceError
from dsi_finance.exports import XlsxExportMixin, export_filename
from dsi_finance.history import document_changes
from dsi_finance.home import HomeQueueListMixin
from dsi_finance.idempotency import once_from_form
from dsi_finance.money import format_xpf
from dsi_finance.roles import holds
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin

from .. import access
from ..exports import REQUEST_EXPORT
from ..filters.requests import PurchaseRequestFilter
from ..forms.requests import (
    LINES_PREFIX,
    AttachmentForm,
    DecisionForm,
    PurchaseRequestForm,
    lines_formset,
)
from ..models import Attachment, Commitment, PurchaseRequest
from ..selectors import requests as selectors
from ..selectors.suppliers import tax_rates_in_force
from ..services import requests as services
from ..services.common import document_totals
from ..tables.requests import PurchaseRequestTable

State = PurchaseRequest.State
ENTER = "enter_purchase_request"
CANCEL = (ENTER, *access.APPROVE_REQUEST)
CREATE_SCOPE = "procurement.purchase_request.create"


def _errors_to_messages(request, error: ServiceError) -> None:
    for text in error.messages:
        messages.error(request, text)


def _url_or_none(obj) -> str | None:
    """The object's page, or None while that page does not exist yet."""
    try:
        return obj.get_absolute_url()
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------------------
# The list


class PurchaseRequestListView(
    CapabilityRequiredMixin,
    HomeQueueListMixin,
    XlsxExportMixin,
    HtmxTableMixin,
    SingleTableMixin,
    FilterView,
):
    """Three tabs: the buyer's own requests, those waiting for approval (the ones this
    approver usually decides first) and all of them; a tab is offered only to the
    roles it serves, and typed by hand by another role it answers 403."""

    queue_url_name = "procurement:request-list"
    capability = access.REQUESTS
    template_name = "procurement/request_list.html"
    table_class = PurchaseRequestTable
    filterset_class = PurchaseRequestFilter
    export_columns = REQUEST_EXPORT
    export_title = gettext_lazy("Purchase requests")
    export_names = {
        "mine": "achats-mes-demandes",
        "to_approve": "achats-demandes-a-approuver",
        "all": "achats-demandes",
    }

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            self.tabs = selectors.tabs_for(request.user)
            self.tab = request.GET.get("tab") or selectors.default_tab(request.user)
            if self.tab not in selectors.TABS:
                raise Http404
            if self.tab not in self.tabs:
                raise PermissionDenied(_("Your role does not allow this action."))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.requests_tab(actor=self.request.user, tab=self.tab)

    def get_export_filename(self):
        return export_filename(self.export_names[self.tab])

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        if self.tab != "to_approve":
            kwargs["exclude"] = ("approver",)
        if self.tab == "mine":
            kwargs["exclude"] = ("approver", "requested_by")
        if self.tab == "to_approve":
            # The order that puts this approver's usual requests first.
            kwargs["order_by"] = ()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # "Toutes" (les demandes): the context lets each list agree in gender in French.
        labels = {
            "mine": _("My requests"),
            "to_approve": _("To approve"),
            "all": pgettext("purchase requests tab", "All"),
        }
        context["tabs"] = [(tab, labels[tab]) for tab in self.tabs]
        context["tab"] = self.tab
        context["may_create"] = holds(self.request.user, ENTER)
        return context


# ---------------------------------------------------------------------------
# Entering and editing


class _RequestFormMixin:
    template_name = "procurement/request_form.html"

    def render_form(self, form, formset, *, status=200):
        rows = _line_rows(self.request.user, formset)
        context = {
            "form": form,
            "formset": formset,
            "purchase_request": getattr(self, "object", None),
            "lines": [(line_form, rows.get(line_form.prefix)) for line_form in formset.forms],
            "totals": _typed_totals(formset),
            "availability_url": reverse("procurement:request-availability"),
            "max_lines": services.MAX_LINES,
        }
        return render(self.request, self.template_name, context, status=status)

    @staticmethod
    def add_service_error(form, error: ServiceError) -> None:
        for message in error.messages:
            form.add_error(None, message)


class PurchaseRequestCreateView(CapabilityRequiredMixin, _RequestFormMixin, View):
    """A new request. The form carries a token: posted twice (double click, resent
    after a timeout), it records once and the second post lands on the request."""

    capability = ENTER

    def get(self, request):
        form = PurchaseRequestForm()
        formset = lines_formset(actor=request.user)
        return self.render_form(form, formset)

    def post(self, request):
        form = PurchaseRequestForm(request.POST)
        formset = lines_formset(actor=request.user, data=request.POST)
        if not (form.is_valid() and formset.is_valid()):
            return self.render_form(form, formset)
        data = form.cleaned_data
        try:
            created_request, created = once_from_form(
                request,
                CREATE_SCOPE,
                lambda: services.purchase_request_create(
                    user=request.user,
                    supplier=data["supplier"],
                    subject=data["subject"],
                    justification=data["justification"],
                    lines=formset.service_lines(),
                ),
            )
        except ServiceError as error:
            self.add_service_error(form, error)
            return self.render_form(form, formset)
        if created:
            messages.success(
                request,
                _("Purchase request %(number)s recorded as a draft: submit it for approval.")
                % {"number": created_request.number},
            )
        return redirect(created_request)


class PurchaseRequestUpdateView(CapabilityRequiredMixin, _RequestFormMixin, View):
    capability = ENTER

    def get_object(self, pk) -> PurchaseRequest:
        self.object = get_object_or_404(
            selectors.purchase_request_detail(actor=self.request.user), pk=pk
        )
        return self.object

    def refuse(self, purchase_request):
        messages.error(
            self.request,
            _("The request %(number)s is %(state)s: only a draft request can be edited.")
            % {
                "number": purchase_request.number,
                "state": purchase_request.get_state_display().lower(),
            },
        )
        return redirect(purchase_request)

    def get(self, request, pk):
        purchase_request = self.get_object(pk)
        if not purchase_request.is_editable:
            return self.refuse(purchase_request)
        form = PurchaseRequestForm(
            initial={
                "supplier": purchase_request.supplier_id,
                "subject": purchase_request.subject,
                "justification": purchase_request.justification,
            },
            current_supplier=purchase_request.supplier,
        )
        formset = lines_formset(
            actor=request.user,
            initial=[
                {
                    "description": line.description,
                    "quantity": quantity_display(line.quantity),
                    "unit_price": line.unit_price,
                    "tax_rate": line.tax_rate_id,
                    "budget_line": line.budget_line_id,
                }
                for line in purchase_request.lines.all()
            ],
        )
        return self.render_form(form, formset)

    def post(self, request, pk):
        purchase_request = self.get_object(pk)
        if not purchase_request.is_editable:
            return self.refuse(purchase_request)
        form = PurchaseRequestForm(request.POST, current_supplier=purchase_request.supplier)
        formset = lines_formset(actor=request.user, data=request.POST)
        if not (form.is_valid() and formset.is_valid()):
            return self.render_form(form, formset)
        data = form.cleaned_data
        try:
            services.purchase_request_update(
                user=request.user,
                request=purchase_request,
                supplier=data["supplier"],
                subject=data["subject"],
                justification=data["justification"],
                lines=formset.service_lines(),
            )
        except ServiceError as error:
            self.add_service_error(form, error)
            return self.render_form(form, formset)
        messages.success(
            request, _("Purchase request %(number)s saved.") % {"number": purchase_request.number}
        )
        return redirect(purchase_request)


def quantity_display(quantity: Decimal) -> str:
    """2.500 -> "2,5" (in French), 100.000 -> "100": as the buyer would type it."""
    shown = quantity.normalize()
    if shown.as_tuple().exponent > 0:
        shown = shown.quantize(Decimal(1))
    return number_format(shown)


# ---------------------------------------------------------------------------
# Live availability of the lines while the buyer types


def _typed_rows(data) -> list[dict]:
    """The rows of a posted (or htmx-sent) line formset, each with its amount, or the
    French reason its quantity or unit price cannot be read (the form's own reading:
    "250.000" is 250 000 F CFP, "250.5" is refused); both empty while still typed."""
    prefix = LINES_PREFIX
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        total = 0
    rates = {str(rate.pk): rate.rate for rate in tax_rates_in_force(on=timezone.localdate())}
    rows = []
    for index in range(min(total, services.MAX_LINES)):
        name = f"{prefix}-{index}"
        if data.get(f"{name}-DELETE"):
            continue
        budget_line = data.get(f"{name}-budget_line") or ""
        typed = selectors.typed_line_amount(
            data.get(f"{name}-quantity", ""), data.get(f"{name}-unit_price", "")
        )
        rows.append(
            {
                "prefix": name,
                "amount": typed.amount,
                "error": typed.error,
                "budget_line": int(budget_line) if budget_line.isdigit() else None,
                "rate": rates.get(data.get(f"{name}-tax_rate") or ""),
            }
        )
    return rows


def _rows_availability(actor, rows: list[dict]) -> list[dict]:
    """Each row with its amount and, when it names a budget line, that line's
    availability against the total of the request's rows on it, and the verdict the
    box shows: `fits` (green), `short`, `error` (the row's amount cannot be read),
    `incomplete` (another row on the same budget line cannot be read, so the total is
    not known) or `pending` (no amount yet). Only a known total is ever "covered"."""
    amounts: dict[int, int] = defaultdict(int)
    positions: dict[int, list[int]] = defaultdict(list)
    unreadable: set[int] = set()
    for number, row in enumerate(rows, start=1):
        if row["budget_line"]:
            amounts[row["budget_line"]] += row["amount"] or 0
            positions[row["budget_line"]].append(number)
            if row.get("error"):
                unreadable.add(row["budget_line"])
    availability = selectors.availability_for(
        actor=actor, amounts=dict(amounts), positions=dict(positions)
    )
    result = []
    for row in rows:
        found = availability.get(row["budget_line"])
        if row.get("error"):
            verdict = "error"
        elif found is None:
            verdict = None
        elif row["budget_line"] in unreadable:
            verdict = "incomplete"
        elif not row["amount"]:
            verdict = "pending"
        else:
            verdict = "fits" if found.fits else "short"
        result.append(row | {"availability": found, "verdict": verdict})
    return result


def _line_rows(actor, formset) -> dict[str, dict]:
    """The availability box of each row of a form being (re)displayed, by prefix."""
    if formset.is_bound:
        rows = _typed_rows(formset.data)
    else:
        rows = []
        for form in formset.forms:
            initial = form.initial
            typed = selectors.typed_line_amount(
                initial.get("quantity", ""), initial.get("unit_price", "")
            )
            rows.append(
                {
                    "prefix": form.prefix,
                    "amount": typed.amount,
                    "error": typed.error,
                    "budget_line": initial.get("budget_line"),
                    "rate": None,
                }
            )
    return {row["prefix"]: row for row in _rows_availability(actor, rows)}


def _typed_totals(formset):
    if not formset.is_bound:
        return None
    rows = _typed_rows(formset.data)
    return document_totals(
        (row["amount"], row["rate"]) for row in rows if row["amount"] and row["rate"] is not None
    )


class RequestAvailabilityView(CapabilityRequiredMixin, View):
    """htmx: the availability of budget lines for the request form and pages.

    With the form's lines (`lines-TOTAL_FORMS`…): every row's box, swapped out of
    band (`availability-lines-N`), and the request's totals; a warning, never a
    block, when a budget line's available amount does not cover the request's
    lines on it. With `?budget_line=<pk>&amount=<francs>`: that line's box alone.
    """

    capability = access.REQUESTS

    def get(self, request):
        if f"{LINES_PREFIX}-TOTAL_FORMS" in request.GET:
            rows = _rows_availability(request.user, _typed_rows(request.GET))
            rows_with_rate = [
                (row["amount"], row["rate"])
                for row in _typed_rows(request.GET)
                if row["amount"] and row["rate"] is not None
            ]
            unreadable = [number for number, row in enumerate(rows, start=1) if row.get("error")]
            return render(
                request,
                "procurement/partials/request_availability_rows.html",
                {
                    "rows": rows,
                    "totals": document_totals(rows_with_rate),
                    "unreadable": unreadable,
                },
            )
        line = request.GET.get("budget_line", "")
        typed = selectors.typed_line_amount("1", request.GET.get("amount", ""))
        row = {
            "prefix": "",
            "amount": typed.amount,
            "error": typed.error,
            "budget_line": int(line) if line.isdigit() else None,
            "rate": None,
        }
        (row,) = _rows_availability(request.user, [row])
        return render(request, "procurement/partials/request_line_availability.html", {"row": row})


# ---------------------------------------------------------------------------
# The detail page


class PurchaseRequestDetailView(CapabilityRequiredMixin, View):
    capability = access.REQUESTS
    template_name = "procurement/request_detail.html"

    def get(self, request, pk):
        purchase_request = get_object_or_404(
            selectors.purchase_request_detail(actor=request.user), pk=pk
        )
        return render(request, self.template_name, self.context(purchase_request))

    def context(self, purchase_request: PurchaseRequest) -> dict:
        user = self.request.user
        state = purchase_request.state
        waiting = state in (State.DRAFT, State.SUBMITTED)
        rows = selectors.request_availability(actor=user, request=purchase_request)
        short = waiting and selectors.request_is_short(rows)
        by_line = {row.line.pk: row for row in rows}
        commitment = Commitment.objects.filter(purchase_request=purchase_request).first()
        is_buyer = holds(user, ENTER)
        is_approver = holds(user, access.APPROVE_REQUEST)
        decision = services.approval_path(user, purchase_request, short=short)
        Decision = services.Decision
        may_approve = decision in (Decision.APPROVE, Decision.OVERRIDE)
        may_override = may_approve and services.may_override(user, purchase_request)
        may_transmit = decision == Decision.TRANSMIT
        return {
            "purchase_request": purchase_request,
            "lines": [
                (line, by_line.get(line.budget_line_id), quantity_display(line.quantity))
                for line in purchase_request.lines.all()
            ],
            "availability": rows,
            "waiting": waiting,
            "short": short,
            "totals": selectors.tax_totals(purchase_request),
            "threshold": settings.PROCUREMENT_APPROVAL_THRESHOLD,
            "over_threshold": services.is_over_threshold(purchase_request),
            "attachments": purchase_request.attachments.all(),
            "attachment_form": AttachmentForm(),
            "may_attach": is_buyer and state != State.CANCELLED,
            "may_edit": is_buyer and state == State.DRAFT,
            "may_submit": is_buyer and state == State.DRAFT,
            "may_approve": may_approve,
            "may_override": may_override,
            "show_override": may_override and (short or self.request.GET.get("override") == "1"),
            "needs_director": state == State.SUBMITTED
            and is_approver
            and not services.may_approve(user, purchase_request),
            "may_reject": state == State.SUBMITTED and is_approver,
            "may_transmit": may_transmit,
            "transfer_proposals": (
                _transfer_proposals(purchase_request, rows)
                if may_transmit and holds(user, "request_transfer")
                else []
            ),
            "may_cancel": state in services.CANCELLABLE
            and services.may_cancel(user, purchase_request),
            "may_reopen": is_buyer and state == State.REJECTED,
            "commitment": commitment,
            "commitment_url": _url_or_none(commitment) if commitment else None,
            "entries": (
                budget_selectors.document_entries(actor=user, document=commitment)
                if commitment
                else []
            ),
            "changes": document_changes(purchase_request),
        }


def _transfer_proposals(purchase_request: PurchaseRequest, rows) -> list[dict]:
    """For each short budget line, the transfer form prefilled: this line receives the
    shortage (budgets:transfer-create lists the lines that can give it)."""
    proposals = []
    for row in rows:
        if row.fits:
            continue
        query = urlencode(
            {
                "target": row.line.pk,
                "amount": row.shortfall,
                "reason": _("To cover the purchase request %(number)s")
                % {"number": purchase_request.number},
            }
        )
        proposals.append(
            {
                "line": row.line,
                "shortfall": row.shortfall,
                "url": f"{reverse('budgets:transfer-create')}?{query}",
            }
        )
    return proposals


# ---------------------------------------------------------------------------
# Decisions


class PurchaseRequestActionView(CapabilityRequiredMixin, View):
    """POST only: submit, approve, reject, cancel or reopen through the request's
    service. A refusal is a French error message on the detail page and changes
    nothing; a short available amount that the approver may override brings the
    page back with the reason field (`?override=1`). `action` and `capability`
    are set per URL."""

    http_method_names = ["post"]
    action = ""

    def post(self, request, pk):
        purchase_request = get_object_or_404(selectors.purchase_requests(actor=request.user), pk=pk)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(purchase_request)
        reason = form.cleaned_data["reason"]
        try:
            message = self.act(purchase_request, reason)
        except CreditsShortError as error:
            _errors_to_messages(request, error)
            if error.can_override:
                return HttpResponseRedirect(
                    f"{purchase_request.get_absolute_url()}?override=1#approve"
                )
            return redirect(purchase_request)
        except ServiceError as error:
            _errors_to_messages(request, error)
            return redirect(purchase_request)
        except PermissionDenied as error:
            # The role may decide requests, but not this one (its amount, its author).
            messages.error(request, str(error) or _("Your role does not allow this action."))
            return redirect(purchase_request)
        messages.success(request, message)
        return redirect(purchase_request)

    def act(self, purchase_request: PurchaseRequest, reason: str) -> str:
        user = self.request.user
        number = purchase_request.number
        if self.action == "submit":
            services.purchase_request_submit(user=user, request=purchase_request)
            return _("Request %(number)s submitted for approval.") % {"number": number}
        if self.action == "approve":
            commitment = services.purchase_request_approve(
                user=user, request=purchase_request, override_reason=reason
            )
            return _(
                "Request %(number)s approved: commitment %(commitment)s takes %(amount)s "
                "before tax."
            ) % {
                "number": number,
                "commitment": commitment.number,
                "amount": format_xpf(commitment.amount),
            }
        if self.action == "transmit":
            services.purchase_request_transmit(user=user, request=purchase_request, note=reason)
            return _(
                "Request %(number)s transmitted to the IT director: it waits on his home page."
            ) % {"number": number}
        if self.action == "reject":
            services.purchase_request_reject(user=user, request=purchase_request, reason=reason)
            return _("Request %(number)s rejected; the buyer sees your reason.") % {
                "number": number
            }
        if self.action == "cancel":
            services.purchase_request_cancel(user=user, request=purchase_request, reason=reason)
            return _("Request %(number)s cancelled.") % {"number": number}
        services.purchase_request_reopen(user=user, request=purchase_request)
        return _("Request %(number)s is a draft again: edit it and submit it anew.") % {
            "number": number
        }


# ---------------------------------------------------------------------------
# Attachments


class AttachmentUploadView(CapabilityRequiredMixin, View):
    http_method_names = ["post"]
    capability = ENTER

    def post(self, request, pk):
        purchase_request = get_object_or_404(selectors.purchase_requests(actor=request.user), pk=pk)
        form = AttachmentForm(request.POST, request.FILES)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(purchase_request)
        try:
            attachment = services.attachment_add(
                user=request.user, request=purchase_request, file=form.cleaned_data["file"]
            )
        except ServiceError as error:
            _errors_to_messages(request, error)
            return redirect(purchase_request)
        messages.success(request, _("“%(name)s” attached.") % {"name": attachment.name})
        return redirect(purchase_request)


class AttachmentDownloadView(CapabilityRequiredMixin, View):
    """The file, to whoever may open the request (the same check as its page)."""

    capability = access.REQUESTS

    def get(self, request, pk, attachment_pk):
        purchase_request = get_object_or_404(selectors.purchase_requests(actor=request.user), pk=pk)
        attachment = get_object_or_404(Attachment, pk=attachment_pk, request=purchase_request)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(handle, as_attachment=True, filename=attachment.name)


def _action(name: str, capability) -> View:
    return PurchaseRequestActionView.as_view(action=name, capability=capability)


urlpatterns = [
    path("demandes/", PurchaseRequestListView.as_view(), name="request-list"),
    path("demandes/nouvelle/", PurchaseRequestCreateView.as_view(), name="request-create"),
    path("demandes/disponible/", RequestAvailabilityView.as_view(), name="request-availability"),
    path("demandes/<int:pk>/", PurchaseRequestDetailView.as_view(), name="request-detail"),
    path("demandes/<int:pk>/modifier/", PurchaseRequestUpdateView.as_view(), name="request-update"),
    path("demandes/<int:pk>/soumettre/", _action("submit", ENTER), name="request-submit"),
    path(
        "demandes/<int:pk>/approuver/",
        _action("approve", access.APPROVE_REQUEST),
        name="request-approve",
    ),
    path(
        "demandes/<int:pk>/transmettre/",
        _action("transmit", "approve_purchase_request"),
        name="request-transmit",
    ),
    path(
        "demandes/<int:pk>/rejeter/",
        _action("reject", access.APPROVE_REQUEST),
        name="request-reject",
    ),
    path("demandes/<int:pk>/annuler/", _action("cancel", CANCEL), name="request-cancel"),
    path("demandes/<int:pk>/rouvrir/", _action("reopen", ENTER), name="request-reopen"),
    path(
        "demandes/<int:pk>/pieces/", AttachmentUploadView.as_view(), name="request-attachment-add"
    ),
    path(
        "demandes/<int:pk>/pieces/<int:attachment_pk>/",
        AttachmentDownloadView.as_view(),
        name="request-attachment",
    ),
]

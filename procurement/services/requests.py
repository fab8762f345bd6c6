"""Purchase requests (demandes d'achat, DA): entered, submitted, approved or rejected,
cancelled, reopened; their attachments.

A request consumes nothing until it is approved: approval opens its commitment
through `commitments.commitment_create`, which takes the credits with
budgets.services.credits_commit (the check of the available amount and the
ledger entries, in this transaction). Cancelling an approved request cancels its
commitment, which releases the credits.

Who does what (procurement/access.py, dsi_finance/roles.py):
- the buyers (enter_purchase_request) enter, edit (draft only), submit, reopen
  (rejected only) and attach files; they may cancel a request that has taken no
  credits (draft, submitted, rejected);
- the section head (approve_purchase_request) approves up to
  PROCUREMENT_APPROVAL_THRESHOLD before tax, when the credits suffice; the IT
  director (approve_over_threshold) approves any amount and may override a
  short available amount with a written reason; either rejects (with a reason)
  and cancels a request that holds credits (approved and after), since the
  cancellation gives credits back;
- nobody approves a request they entered themselves (four eyes).

Locks: every state change reads the request's row with select_for_update, so two
clicks, two tabs or two approvers queue up: the second one sees the state the
first left and is refused in French, instead of committing twice. Order of
locks: request, then commitment (lock_commitment), then budget lines
(credits_commit / credits_release) — the same order everywhere.
"""

import os
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from budgets.models import BudgetLine, FiscalYear
from budgets.selectors import current_fiscal_year
from budgets.services import CreditsShortError, Shortage
from dsi_finance.file_sizes import format_file_size
from dsi_finance.money import format_xpf, parse_francs, validate_amount
from dsi_finance.roles import require_any_capability, require_capability

from ..models import (
    Attachment,
    Commitment,
    Invoice,
    PurchaseOrder,
    PurchaseRequest,
    PurchaseRequestLine,
    Supplier,
)
from . import commitments
from .common import (
    ProcurementError,
    document_totals,
    line_amount,
    next_number,
    resolve_tax_rate,
    validate_quantity,
    validate_text,
)

MAX_LINES = 50
ENTER = "enter_purchase_request"
APPROVE = "approve_purchase_request"
APPROVE_OVER = "approve_over_threshold"
OVERRIDE = "override_available"

State = PurchaseRequest.State

# Cancelled by a buyer: the request holds no credits yet.
CANCELLABLE_BY_BUYER = (State.DRAFT, State.SUBMITTED, State.REJECTED)
# Cancelled by an approver: the commitment's credits go back to the available amount.
CANCELLABLE_BY_APPROVER = (
    State.APPROVED,
    State.ORDERED,
    State.PARTLY_RECEIVED,
    State.RECEIVED,
)
CANCELLABLE = CANCELLABLE_BY_BUYER + CANCELLABLE_BY_APPROVER


# ---------------------------------------------------------------------------
# Lines


def _line_error(position: int, error: ValidationError) -> ProcurementError:
    """The error of one line, its position named: "Ligne 2 : la quantité …"."""
    text = " ".join(error.messages)
    return ProcurementError(
        _("Line %(position)s: %(message)s") % {"position": position, "message": text},
        code=getattr(error, "code", None) or "line",
    )


def _unit_price(value) -> int:
    """Whole francs, more than zero (a free item has no place in a purchase request)."""
    label = _("The unit price")
    if isinstance(value, str):
        value = parse_francs(value.strip() or None, label=label)
    if value is None:
        raise ProcurementError(_("%(label)s is required.") % {"label": label}, code="required")
    return validate_amount(value, label=label)


def _budget_line(value) -> BudgetLine | None:
    if value in (None, ""):
        return None
    pk = getattr(value, "pk", value)
    try:
        return BudgetLine.objects.select_related("fiscal_year").get(pk=int(pk))
    except (BudgetLine.DoesNotExist, TypeError, ValueError):
        raise ProcurementError(_("Unknown budget line."), code="budget_line") from None


def _clean_lines(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line checked, its TGC rate resolved for today and its amount computed.

    Refuses (French, naming the line) a blank description, a quantity that is not a
    positive number, a unit price that is not a positive whole number of francs, an
    unknown TGC rate, an unknown budget line, and an amount that rounds to nothing.
    """
    lines = list(lines or [])
    if not lines:
        raise ProcurementError(_("A purchase request needs at least one line."), code="no_lines")
    if len(lines) > MAX_LINES:
        raise ProcurementError(
            _("A purchase request has at most %(max)s lines; split it in several requests.")
            % {"max": MAX_LINES},
            code="too_many_lines",
        )
    today = timezone.localdate()
    cleaned = []
    for position, line in enumerate(lines, start=1):
        try:
            description = validate_text(
                line.get("description"), label=_("The description"), max_length=300
            )
            quantity = validate_quantity(line.get("quantity"))
            unit_price = _unit_price(line.get("unit_price"))
            tax_rate = resolve_tax_rate(line.get("tax_rate"), on=today)
            budget_line = _budget_line(line.get("budget_line"))
            amount = line_amount(quantity, unit_price)
        except ValidationError as error:
            raise _line_error(position, error) from None
        if amount <= 0:
            raise _line_error(
                position,
                ProcurementError(
                    _("its amount rounds to zero francs: check the quantity and the price."),
                    code="amount",
                ),
            )
        cleaned.append(
            {
                "position": position,
                "description": description,
                "quantity": quantity,
                "unit_price": unit_price,
                "tax_rate": tax_rate,
                "budget_line": budget_line,
                "amount_ht": amount,
            }
        )
    return cleaned


def _fiscal_year_for(
    lines: list[dict[str, Any]], request: PurchaseRequest | None = None
) -> FiscalYear:
    """The year of the request: its budget lines' (one year, open), else the open year.

    A request being edited keeps its year (its number carries it): its lines must
    stay in it.
    """
    current = request.fiscal_year if request is not None else None
    years = {line["budget_line"].fiscal_year for line in lines if line["budget_line"]}
    if len(years) > 1:
        raise ProcurementError(
            _("All the lines of a request take credits of one fiscal year: %(years)s were chosen.")
            % {"years": ", ".join(str(y.year) for y in sorted(years, key=lambda y: y.year))},
            code="two_years",
        )
    if years:
        (year,) = years
    else:
        year = current or current_fiscal_year()
        if year is None or (current is None and year.state != FiscalYear.State.OPEN):
            raise ProcurementError(
                _("No fiscal year is open: a purchase request cannot be entered yet."),
                code="no_open_year",
            )
    if current is not None and year.pk != current.pk:
        raise ProcurementError(
            _(
                "The request %(number)s belongs to the fiscal year %(year)s: "
                "choose budget lines of that year."
            )
            % {"number": request.number, "year": current.year},
            code="other_year",
        )
    if year.state != FiscalYear.State.OPEN:
        raise ProcurementError(
            _("The fiscal year %(year)s is %(state)s: choose budget lines of the open year.")
            % {"year": year.year, "state": year.get_state_display().lower()},
            code="year_state",
        )
    return year


def _check_supplier(supplier) -> Supplier:
    if not isinstance(supplier, Supplier):
        try:
            supplier = Supplier.objects.get(pk=int(getattr(supplier, "pk", supplier)))
        except (Supplier.DoesNotExist, TypeError, ValueError):
            raise ProcurementError(_("Choose a supplier."), code="supplier") from None
    if not supplier.is_active:
        raise ProcurementError(
            _("The supplier %(name)s is deactivated: choose an active supplier.")
            % {"name": supplier.name},
            code="supplier_inactive",
        )
    return supplier


def _set_totals(request: PurchaseRequest, lines: list[dict[str, Any]]) -> None:
    """Cache the lines' totals on the request: before tax, TGC by rate, with tax."""
    totals = document_totals((line["amount_ht"], line["tax_rate"].rate) for line in lines)
    if totals.ht > settings.PROCUREMENT_MAX_AMOUNT:
        raise ProcurementError(
            _("The request's total (%(amount)s) is absurd: check the quantities and the prices.")
            % {"amount": format_xpf(totals.ht)},
            code="amount",
        )
    request.amount_ht = totals.ht
    request.amount_tax = totals.tax
    request.amount_ttc = totals.ttc


def _write_lines(request: PurchaseRequest, lines: list[dict[str, Any]]) -> None:
    PurchaseRequestLine.objects.bulk_create(
        PurchaseRequestLine(request=request, **line) for line in lines
    )


def _lock(request: PurchaseRequest) -> PurchaseRequest:
    """The request's row, locked until the transaction ends, as it is now."""
    return (
        PurchaseRequest.objects.select_for_update(of=("self",))
        .select_related("supplier", "fiscal_year")
        .get(pk=request.pk)
    )


def _state_error(request: PurchaseRequest, action: str) -> ProcurementError:
    return ProcurementError(
        _("The request %(number)s is %(state)s: %(action)s is not possible.")
        % {
            "number": request.number,
            "state": request.get_state_display().lower(),
            "action": action,
        },
        code="state",
    )


def _reason(reason: str, *, label: str) -> str:
    return validate_text(reason, label=label, max_length=2000)


# ---------------------------------------------------------------------------
# Entering


@transaction.atomic
def purchase_request_create(
    *,
    user,
    supplier: Supplier,
    subject: str,
    justification: str = "",
    lines: list[dict[str, Any]],
) -> PurchaseRequest:
    """A new draft request, numbered DA-<year>-NNNNN in the year of its budget lines
    (or the open year when no line names one yet)."""
    require_capability(user, ENTER)
    supplier = _check_supplier(supplier)
    subject = validate_text(subject, label=_("The subject"), max_length=200)
    justification = validate_text(
        justification, label=_("The justification"), max_length=5000, required=False
    )
    cleaned = _clean_lines(lines)
    year = _fiscal_year_for(cleaned)
    request = PurchaseRequest(
        fiscal_year=year,
        number=next_number("DA", year.year),
        supplier=supplier,
        subject=subject,
        justification=justification,
        requested_by=user,
    )
    _set_totals(request, cleaned)
    request._change_reason = _("Request entered")
    request._history_user = user
    request.save()
    _write_lines(request, cleaned)
    return request


@transaction.atomic
def purchase_request_update(
    *,
    user,
    request: PurchaseRequest,
    supplier: Supplier,
    subject: str,
    justification: str,
    lines: list[dict[str, Any]],
) -> PurchaseRequest:
    """Change a draft request; its lines are replaced by `lines`."""
    require_capability(user, ENTER)
    request = _lock(request)
    if not request.is_editable:
        raise ProcurementError(
            _("The request %(number)s is %(state)s: only a draft request can be edited.")
            % {"number": request.number, "state": request.get_state_display().lower()},
            code="not_editable",
        )
    supplier = _check_supplier(supplier)
    subject = validate_text(subject, label=_("The subject"), max_length=200)
    justification = validate_text(
        justification, label=_("The justification"), max_length=5000, required=False
    )
    cleaned = _clean_lines(lines)
    _fiscal_year_for(cleaned, request)
    # Draft lines are only a working copy: nothing refers to them before approval.
    PurchaseRequestLine.objects.filter(request=request).delete()
    request.supplier = supplier
    request.subject = subject
    request.justification = justification
    _set_totals(request, cleaned)
    _write_lines(request, cleaned)
    request._change_reason = _("Request edited")
    request._history_user = user
    request.save()
    return request


@transaction.atomic
def purchase_request_submit(*, user, request: PurchaseRequest) -> PurchaseRequest:
    """Draft -> submitted, for approval. Every line must name its budget line."""
    require_capability(user, ENTER)
    request = _lock(request)
    if request.state != State.DRAFT:
        raise _state_error(request, _("submitting"))
    missing = list(
        request.lines.filter(budget_line__isnull=True)
        .order_by("position")
        .values_list("position", flat=True)
    )
    if missing:
        raise ProcurementError(
            ngettext(
                "Line %(positions)s has no budget line: choose one before submitting.",
                "Lines %(positions)s have no budget line: choose one for each before submitting.",
                len(missing),
            )
            % {"positions": ", ".join(str(p) for p in missing)},
            code="budget_line_missing",
        )
    if not request.lines.exists():
        raise ProcurementError(_("A purchase request needs at least one line."), code="no_lines")
    request.state = State.SUBMITTED
    request.submitted_at = timezone.now()
    request._change_reason = _("Submitted for approval")
    request._history_user = user
    request.save()
    return request


# ---------------------------------------------------------------------------
# Deciding


def may_approve(user, request: PurchaseRequest) -> bool:
    """Whether the user's roles allow approving this request (its amount against the
    threshold); the credits are checked at approval."""
    if user.has_perm(f"dsi_finance.{APPROVE_OVER}"):
        return True
    return user.has_perm(f"dsi_finance.{APPROVE}") and not is_over_threshold(request)


def is_over_threshold(request: PurchaseRequest) -> bool:
    return request.amount_ht > settings.PROCUREMENT_APPROVAL_THRESHOLD


def may_override(user, request: PurchaseRequest) -> bool:
    """Whether the user may approve over a short available amount, with a reason: the
    IT director, or an approver in a year whose control only warns."""
    return user.has_perm(f"dsi_finance.{OVERRIDE}") or (
        request.fiscal_year.control_mode == FiscalYear.ControlMode.WARN
        and may_approve(user, request)
    )


class Decision(StrEnum):
    """What a user can do with a submitted request (approval_path)."""

    NONE = "none"  # not theirs to decide (their own, above their threshold, not submitted)
    APPROVE = "approve"  # approve and commit: the credits suffice
    OVERRIDE = "override"  # credits short: approve over them with a written reason
    TRANSMIT = "transmit"  # credits short, no override: transmit, propose a transfer, send back


def approval_path(user, request: PurchaseRequest, *, short: bool) -> Decision:
    """The one rule of who approves what: the approval service refuses with it, the
    request page shows its buttons with it. `short`: whether the available amount
    fails to cover the request (selectors.requests.request_is_short, the figures the
    commitment check uses; a read, nothing written)."""
    if (
        request.state != State.SUBMITTED
        or request.requested_by_id == user.pk
        or not may_approve(user, request)
    ):
        return Decision.NONE
    if request.transmitted_at is not None and not user.has_perm(f"dsi_finance.{APPROVE_OVER}"):
        return Decision.NONE  # transmitted: the IT director's to decide now
    if not short:
        return Decision.APPROVE
    if may_override(user, request):
        return Decision.OVERRIDE
    return Decision.TRANSMIT


def request_shortages(*, user, request: PurchaseRequest) -> list[Shortage]:
    """The request's lines (or chapters) whose available amount is short now, with the
    figures the commitment check compares (a read: nothing is written or locked)."""
    from ..selectors.requests import request_availability

    shortages = []
    for row in request_availability(actor=user, request=request):
        if row.fits:
            continue
        if row.scope == "chapter":
            scope = _("chapter %(code)s") % {"code": row.line.nature_account.chapter.code}
        else:
            scope = _("line %(code)s") % {"code": row.line.code}
        shortages.append(Shortage(scope, row.requested, row.available))
    return list(dict.fromkeys(shortages))


def credits_short(*, user, request: PurchaseRequest) -> bool:
    """Whether the available amount of the request's lines (or chapters) is short now."""
    return bool(request_shortages(user=user, request=request))


def _transmit_instead(shortages: list[Shortage]) -> CreditsShortError:
    details = "; ".join(
        _("%(scope)s: %(requested)s requested, %(available)s available")
        % {
            "scope": s.scope,
            "requested": format_xpf(s.requested),
            "available": format_xpf(s.available),
        }
        for s in shortages
    )
    return CreditsShortError(
        _("The available amount is short (%(details)s).") % {"details": details}
        + " "
        + _(
            "Transmit the request to the IT director, propose a transfer to its line, "
            "or send it back to the buyer."
        ),
        shortages=shortages,
        can_override=False,
    )


@transaction.atomic
def purchase_request_approve(
    *, user, request: PurchaseRequest, override_reason: str = ""
) -> Commitment:
    """Submitted -> approved: the commitment is opened and takes the credits.

    Refused (CreditsShortError, French) when the available amount is short, unless
    the approver may override it (the IT director, or anyone in a year that only
    warns) and writes a reason; the overriding ledger entries carry it.
    """
    require_any_capability(user, APPROVE, APPROVE_OVER)
    # The lock makes a second approval (double click, two approvers) wait for the
    # first, then find the request approved: one commitment, credits taken once.
    request = _lock(request)
    if request.state != State.SUBMITTED:
        raise _state_error(request, _("approving"))
    if is_over_threshold(request) and not user.has_perm(f"dsi_finance.{APPROVE_OVER}"):
        raise PermissionDenied(
            _(
                "The request %(number)s amounts to %(amount)s before tax, above %(threshold)s: "
                "only the IT director may approve it."
            )
            % {
                "number": request.number,
                "amount": format_xpf(request.amount_ht),
                "threshold": format_xpf(settings.PROCUREMENT_APPROVAL_THRESHOLD),
            }
        )
    if request.requested_by_id == user.pk:
        raise PermissionDenied(_("You cannot approve a request you entered yourself."))
    shortages = request_shortages(user=user, request=request)
    if approval_path(user, request, short=bool(shortages)) == Decision.TRANSMIT:
        # Refused before any lock on the budget lines; credits_commit checks again, locked.
        raise _transmit_instead(shortages)
    override_reason = validate_text(
        override_reason, label=_("The reason"), max_length=2000, required=False
    )
    lines = list(request.lines.select_related("budget_line", "tax_rate").order_by("position"))
    missing = [line.position for line in lines if line.budget_line_id is None]
    if missing:  # submitted requests have them all; kept for safety
        raise ProcurementError(
            _("Lines %(positions)s have no budget line.")
            % {"positions": ", ".join(map(str, missing))},
            code="budget_line_missing",
        )
    commitment = commitments.commitment_create(
        user=user,
        kind=Commitment.Kind.REQUEST,
        supplier=request.supplier,
        subject=request.subject,
        purchase_request=request,
        override_reason=override_reason,
        lines=[
            commitments.LineSpec(
                budget_line=line.budget_line,
                description=line.description,
                amount=line.amount_ht,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                request_line_id=line.pk,
            )
            for line in lines
        ],
    )
    request.state = State.APPROVED
    request.decided_by = user
    request.decided_at = timezone.now()
    request.decision_reason = override_reason
    request._change_reason = _("Approved, commitment %(number)s") % {"number": commitment.number}
    request._history_user = user
    request.save()
    return commitment


@transaction.atomic
def purchase_request_transmit(*, user, request: PurchaseRequest, note: str = "") -> PurchaseRequest:
    """The section head transmits to the IT director a submitted request whose credits
    are short (approval_path: TRANSMIT), with an optional note; the request waits on
    the director's home page, who approves it over the available amount or rejects
    it. The history keeps who transmitted it, when and why."""
    require_capability(user, APPROVE)
    note = validate_text(note, label=_("The note"), max_length=2000, required=False)
    request = _lock(request)
    if request.state != State.SUBMITTED:
        raise _state_error(request, _("transmitting it to the IT director"))
    if request.transmitted_at is not None:
        raise ProcurementError(
            _("The request %(number)s is already transmitted to the IT director.")
            % {"number": request.number},
            code="transmitted",
        )
    short = credits_short(user=user, request=request)
    if approval_path(user, request, short=short) != Decision.TRANSMIT:
        raise ProcurementError(
            _(
                "The request %(number)s does not need the IT director: its credits suffice "
                "or it is not yours to decide."
            )
            % {"number": request.number},
            code="not_transmittable",
        )
    request.transmitted_by = user
    request.transmitted_at = timezone.now()
    request.transmit_note = note
    request._change_reason = _("Transmitted to the IT director")
    request._history_user = user
    request.save()
    return request


@transaction.atomic
def purchase_request_reject(*, user, request: PurchaseRequest, reason: str) -> PurchaseRequest:
    """Submitted -> rejected, with the reason the buyer will read."""
    require_any_capability(user, APPROVE, APPROVE_OVER)
    reason = _reason(reason, label=_("The reason for the rejection"))
    request = _lock(request)
    if request.state != State.SUBMITTED:
        raise _state_error(request, _("rejecting"))
    request.state = State.REJECTED
    request.decided_by = user
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request._change_reason = _("Rejected")
    request._history_user = user
    request.save()
    return request


@transaction.atomic
def purchase_request_reopen(*, user, request: PurchaseRequest) -> PurchaseRequest:
    """Rejected -> draft: the buyer reworks the request and submits it again. The
    rejection (who, when, why) stays in the request's history."""
    require_capability(user, ENTER)
    request = _lock(request)
    if request.state != State.REJECTED:
        raise _state_error(request, _("reopening"))
    request.state = State.DRAFT
    request.submitted_at = None
    request.decided_by = None
    request.decided_at = None
    request.decision_reason = ""
    # Submitted again, it goes back to the section head first.
    request.transmitted_by = None
    request.transmitted_at = None
    request.transmit_note = ""
    request._change_reason = _("Reopened after rejection")
    request._history_user = user
    request.save()
    return request


def may_cancel(user, request: PurchaseRequest) -> bool:
    """Whether the user's roles allow cancelling the request in its state."""
    if request.state in CANCELLABLE_BY_BUYER:
        return user.has_perm(f"dsi_finance.{ENTER}")
    if request.state in CANCELLABLE_BY_APPROVER:
        return user.has_perm(f"dsi_finance.{APPROVE}") or user.has_perm(
            f"dsi_finance.{APPROVE_OVER}"
        )
    return False


@transaction.atomic
def purchase_request_cancel(*, user, request: PurchaseRequest, reason: str) -> PurchaseRequest:
    """Cancel a request before any invoice, with a reason.

    A request that holds credits (approved and after) is cancelled by an approver:
    its commitment is cancelled and releases every franc it had taken, and its
    purchase order, if any, is marked cancelled. Refused once an invoice (not
    cancelled) refers to its commitment.
    """
    require_any_capability(user, ENTER, APPROVE, APPROVE_OVER)
    reason = _reason(reason, label=_("The reason for the cancellation"))
    request = _lock(request)
    if request.state not in CANCELLABLE:
        raise _state_error(request, _("cancelling"))
    if not may_cancel(user, request):
        if request.state in CANCELLABLE_BY_APPROVER:
            raise PermissionDenied(
                _(
                    "The request %(number)s holds credits: only the section head or the "
                    "IT director may cancel it."
                )
                % {"number": request.number}
            )
        require_capability(user, ENTER)
    commitment = Commitment.objects.filter(purchase_request=request).first()
    if commitment is not None:
        commitment = commitments.lock_commitment(commitment)
        invoices = list(
            commitment.invoices.exclude(state=Invoice.State.CANCELLED).values_list(
                "number", flat=True
            )
        )
        if invoices:
            raise ProcurementError(
                _(
                    "The request %(number)s is invoiced (%(invoices)s): it can no longer be "
                    "cancelled; cancel the invoices first or close its commitment."
                )
                % {"number": request.number, "invoices": ", ".join(invoices)},
                code="invoiced",
            )
        if commitment.state == Commitment.State.OPEN:
            commitments.commitment_cancel(user=user, commitment=commitment, reason=reason)
        order = PurchaseOrder.objects.select_for_update().filter(commitment=commitment).first()
        if order is not None and order.state != PurchaseOrder.State.CANCELLED:
            order.state = PurchaseOrder.State.CANCELLED
            order.cancelled_by = user
            order.cancelled_at = timezone.now()
            order.cancel_reason = reason
            # The history's change reason holds 100 characters: the reason itself is a field.
            order._change_reason = _("Cancelled with the request %(number)s") % {
                "number": request.number
            }
            order._history_user = user
            order.save()
    request.state = State.CANCELLED
    request.cancelled_by = user
    request.cancelled_at = timezone.now()
    request.cancel_reason = reason
    request._change_reason = _("Cancelled")
    request._history_user = user
    request.save()
    return request


# ---------------------------------------------------------------------------
# Attachments

# The first bytes of the formats that have a signature: a file named .pdf that is
# not a PDF is refused (a mislabelled or malformed upload).
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "odt": (b"PK\x03\x04",),
    "ods": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "msg": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}


@transaction.atomic
def attachment_add(*, user, request: PurchaseRequest, file) -> Attachment:
    """Join a file (a quote, a specification…) to a request; kept, never deleted.

    Refused in French: an empty file, one above PROCUREMENT_ATTACHMENT_MAX_BYTES,
    an extension outside PROCUREMENT_ATTACHMENT_EXTENSIONS, content that does not
    match its extension, and a cancelled request.
    """
    require_capability(user, ENTER)
    request = _lock(request)
    if request.state == State.CANCELLED:
        raise _state_error(request, _("adding a file"))
    name = os.path.basename(getattr(file, "name", "") or "").strip()
    if not name:
        raise ProcurementError(_("Choose a file to attach."), code="file")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 199 - len(extension)] + dot + extension) if dot else name[:200]
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    allowed = tuple(settings.PROCUREMENT_ATTACHMENT_EXTENSIONS)
    if extension not in allowed:
        raise ProcurementError(
            _("The file “%(name)s” cannot be attached: accepted formats are %(formats)s.")
            % {"name": name, "formats": ", ".join(allowed)},
            code="file_type",
        )
    size = file.size or 0
    if size <= 0:
        raise ProcurementError(
            _("The file “%(name)s” is empty.") % {"name": name}, code="file_empty"
        )
    limit = settings.PROCUREMENT_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise ProcurementError(
            _("The file “%(name)s” weighs %(size)s: the limit is %(max)s.")
            % {"name": name, "size": format_file_size(size), "max": format_file_size(limit)},
            code="file_size",
        )
    signatures = SIGNATURES.get(extension)
    if signatures:
        file.seek(0)
        head = file.read(16)
        file.seek(0)
        if not any(head.startswith(signature) for signature in signatures):
            raise ProcurementError(
                _("The file “%(name)s” is not a valid %(format)s file.")
                % {"name": name, "format": extension.upper()},
                code="file_content",
            )
    attachment = Attachment(request=request, name=name, size=size, uploaded_by=user)
    attachment.file.save(name, file, save=False)
    attachment.save()
    return attachment


def lines_as_dicts(request: PurchaseRequest) -> list[dict[str, Any]]:
    """The request's lines in the shape the services take (an API PATCH without lines)."""
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "budget_line": line.budget_line,
        }
        for line in request.lines.select_related("tax_rate", "budget_line").order_by("position")
    ]


__all__ = [
    "CANCELLABLE",
    "CANCELLABLE_BY_APPROVER",
    "CANCELLABLE_BY_BUYER",
    "MAX_LINES",
    "Decision",
    "approval_path",
    "attachment_add",
    "credits_short",
    "is_over_threshold",
    "lines_as_dicts",
    "may_approve",
    "may_cancel",
    "may_override",
    "purchase_request_approve",
    "purchase_request_cancel",
    "purchase_request_create",
    "purchase_request_reject",
    "purchase_request_reopen",
    "purchase_request_submit",
    "purchase_request_transmit",
    "purchase_request_update",
    "request_shortages",
]

"""Commitments (engagements): opened, topped up, closed and cancelled.

A commitment takes its credits in one call to budgets.services.credits_commit
(the check of the available amount and the ledger entries, in the caller's
transaction), and gives back what it will not spend through credits_release.
Its lines and totals are caches written here, always under a lock of the
commitment row, so that two invoices or a closing cannot both spend the same
remainder.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets.models import BudgetLine, FiscalYear
from budgets.services import credits_commit, credits_release
from dsi_finance.money import format_xpf, validate_amount
from dsi_finance.roles import require_capability

from ..models import Commitment, CommitmentLine, PurchaseRequest, Supplier, TaxRate
from .common import (
    ProcurementError,
    next_number,
    validate_text,
)


@dataclass(frozen=True)
class LineSpec:
    """What a commitment line commits: a budget line, a description and an amount before tax."""

    budget_line: BudgetLine
    description: str
    amount: int
    quantity: Decimal | None = None
    unit_price: int | None = None
    tax_rate: TaxRate | None = None
    request_line_id: int | None = None


def lock_commitment(commitment: Commitment | int) -> Commitment:
    """The commitment row, locked until the transaction ends, with its lines.

    Every write to a commitment's caches (invoices, receipts, closing) locks it
    first: two liquidations of one commitment then queue instead of both
    spending the same remainder.
    """
    pk = getattr(commitment, "pk", commitment)
    return (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("fiscal_year", "supplier")
        .get(pk=pk)
    )


def _fiscal_year_of(specs: list[LineSpec]) -> FiscalYear:
    years = {spec.budget_line.fiscal_year_id for spec in specs}
    if len(years) != 1:
        raise ProcurementError(
            _("A commitment takes credits of one fiscal year only."), code="two_years"
        )
    return specs[0].budget_line.fiscal_year


def commitment_create(
    *,
    user,
    kind: str,
    supplier: Supplier,
    subject: str,
    lines: list[LineSpec],
    override_reason: str = "",
    purchase_request: PurchaseRequest | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Commitment:
    """Open a commitment and take its credits, or refuse and write nothing.

    No capability check: the calling service (request approval, recurring
    contract, direct invoice) decides who may. Must run in the caller's
    transaction; credits_commit locks the lines (CreditsShortError when short).
    """
    if not lines:
        raise ProcurementError(_("A commitment needs at least one line."), code="no_lines")
    if not supplier.is_active:
        raise ProcurementError(
            _("The supplier %(name)s is deactivated.") % {"name": supplier.name},
            code="supplier_inactive",
        )
    year = _fiscal_year_of(lines)
    commitment = Commitment(
        fiscal_year=year,
        number=next_number("EJ", year.year),
        kind=kind,
        supplier=supplier,
        subject=subject,
        purchase_request=purchase_request,
        period_start=period_start,
        period_end=period_end,
        amount=sum(spec.amount for spec in lines),
        created_by=user,
    )
    commitment._history_user = user  # also outside a web request (API token, commands)
    commitment.save()
    CommitmentLine.objects.bulk_create(
        CommitmentLine(
            commitment=commitment,
            position=position,
            budget_line=spec.budget_line,
            description=spec.description,
            amount=spec.amount,
            quantity=spec.quantity,
            unit_price=spec.unit_price,
            tax_rate=spec.tax_rate,
            request_line_id=spec.request_line_id,
        )
        for position, spec in enumerate(lines, start=1)
    )
    amounts: dict[int, int] = defaultdict(int)
    for spec in lines:
        amounts[spec.budget_line.pk] += spec.amount
    credits_commit(
        user=user, document=commitment, amounts=dict(amounts), override_reason=override_reason
    )
    return commitment


@transaction.atomic
def commitment_open_recurring(
    *,
    user,
    supplier: Supplier,
    subject: str,
    period_start: date,
    period_end: date,
    lines: list[LineSpec],
    override_reason: str = "",
) -> Commitment:
    """A commitment without request, for a recurring contract (yearly maintenance,
    telecom links, subscriptions), invoiced month by month against it."""
    require_capability(user, "open_commitment")
    subject = validate_text(subject, label=_("The subject"), max_length=200)
    if period_start is None or period_end is None:
        raise ProcurementError(_("A recurring contract needs its period."), code="period")
    if period_end < period_start:
        raise ProcurementError(_("The period ends before it starts."), code="period")
    checked = [
        LineSpec(
            budget_line=spec.budget_line,
            description=validate_text(spec.description, label=_("The description"), max_length=300),
            amount=validate_amount(spec.amount),
        )
        for spec in lines
    ]
    return commitment_create(
        user=user,
        kind=Commitment.Kind.RECURRING,
        supplier=supplier,
        subject=subject,
        lines=checked,
        override_reason=override_reason,
        period_start=period_start,
        period_end=period_end,
    )


def commitment_top_up(
    *, user, line: CommitmentLine, amount: int, override_reason: str = ""
) -> None:
    """Commit `amount` more on a commitment line (an invoice above its commitment):
    the same check of the available amount as any commitment. The commitment must
    be locked by the caller (lock_commitment)."""
    amount = validate_amount(amount)
    credits_commit(
        user=user,
        document=line.commitment,
        amounts={line.budget_line_id: amount},
        override_reason=override_reason,
    )
    CommitmentLine.objects.filter(pk=line.pk).update(amount=F("amount") + amount)
    Commitment.objects.filter(pk=line.commitment_id).update(amount=F("amount") + amount)
    line.amount += amount


def _release_remainders(*, user, commitment: Commitment, reason: str) -> int:
    """Give back every line's remainder; returns the total released."""
    total = 0
    for line in commitment.lines.select_related("budget_line").order_by("budget_line_id", "pk"):
        if line.remainder <= 0:
            continue
        credits_release(
            user=user,
            document=commitment,
            line=line.budget_line_id,
            amount=line.remainder,
            reason=reason,
        )
        CommitmentLine.objects.filter(pk=line.pk).update(released=F("released") + line.remainder)
        total += line.remainder
    if total:
        Commitment.objects.filter(pk=commitment.pk).update(released=F("released") + total)
    return total


def _require_open(commitment: Commitment) -> None:
    if commitment.state != Commitment.State.OPEN:
        raise ProcurementError(
            _("The commitment %(number)s is %(state)s.")
            % {"number": commitment.number, "state": commitment.get_state_display().lower()},
            code="commitment_state",
        )


def _pending_invoices(commitment: Commitment) -> list[str]:
    from ..models import Invoice

    return list(
        commitment.invoices.filter(
            state__in=(Invoice.State.ENTERED, Invoice.State.TO_VALIDATE)
        ).values_list("number", flat=True)
    )


@transaction.atomic
def commitment_close(*, user, commitment: Commitment, reason: str = "") -> Commitment:
    """Close a commitment: its unspent remainder goes back to the available amount.

    Refused while an invoice matched to it waits for its liquidation (closing
    would give back credits that invoice still needs).
    """
    require_capability(user, "open_commitment")
    commitment = lock_commitment(commitment)
    _require_open(commitment)
    pending = _pending_invoices(commitment)
    if pending:
        raise ProcurementError(
            _("Invoices %(numbers)s wait for their liquidation: liquidate or cancel them first.")
            % {"numbers": ", ".join(pending)},
            code="pending_invoices",
        )
    reason = (reason or "").strip() or _("Commitment closed")
    released = _release_remainders(user=user, commitment=commitment, reason=reason)
    commitment.refresh_from_db()
    commitment.state = Commitment.State.CLOSED
    commitment.closed_by = user
    commitment.closed_at = timezone.now()
    commitment.close_reason = reason
    commitment._history_user = user
    commitment._change_reason = _("Closed, %(released)s released") % {
        "released": format_xpf(released)
    }
    commitment.save()
    if commitment.purchase_request_id:
        # save(), not update(): the request's history keeps who closed it and when.
        request = PurchaseRequest.objects.get(pk=commitment.purchase_request_id)
        request.state = PurchaseRequest.State.CLOSED
        request._history_user = user
        request.save(update_fields=["state"])
    return commitment


def commitment_cancel(*, user, commitment: Commitment, reason: str) -> Commitment:
    """Cancel a commitment nothing was liquidated on: all its credits are released.

    No capability check (the purchase request's cancellation decides who may);
    must run in the caller's transaction.
    """
    commitment = lock_commitment(commitment)
    _require_open(commitment)
    if commitment.liquidated:
        raise ProcurementError(
            _("The commitment %(number)s has liquidated invoices: it can only be closed.")
            % {"number": commitment.number},
            code="commitment_liquidated",
        )
    if _pending_invoices(commitment):
        raise ProcurementError(
            _("An invoice is matched to the commitment %(number)s: cancel it first.")
            % {"number": commitment.number},
            code="pending_invoices",
        )
    _release_remainders(user=user, commitment=commitment, reason=reason)
    commitment.refresh_from_db()
    commitment.state = Commitment.State.CANCELLED
    commitment.closed_by = user
    commitment.closed_at = timezone.now()
    commitment.close_reason = reason
    commitment._history_user = user
    commitment.save()
    return commitment

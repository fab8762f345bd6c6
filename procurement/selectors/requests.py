"""Reading purchase requests for the screens and the API: the lists (mine, to
approve, all), one request with its lines, and the availability of the budget
lines a request would take credits from.

Every role that opens the requests (procurement.access.REQUESTS) sees every
request: the buyers share their work (one of them orders what another asked
for), the approvers and the readers see everything anyway.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Prefetch, QuerySet, Value, When
from django.utils.translation import gettext as _

from budgets.models import BudgetLine, FiscalYear
from budgets.selectors import line_availability
from dsi_finance.money import parse_francs
from dsi_finance.roles import holds

from ..access import APPROVE_REQUEST
from ..models import Attachment, PurchaseRequest, PurchaseRequestLine
from ..services.common import document_totals, round_francs, validate_quantity

State = PurchaseRequest.State

TABS = ("mine", "to_approve", "all")


def purchase_requests(*, actor) -> QuerySet:
    """Every request the actor may open, with what a list or a detail page shows."""
    return PurchaseRequest.objects.select_related(
        "fiscal_year", "supplier", "requested_by", "decided_by", "cancelled_by", "transmitted_by"
    ).annotate(
        over_threshold=Case(
            When(amount_ht__gt=settings.PROCUREMENT_APPROVAL_THRESHOLD, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        # The IT director decides it: above the threshold, or transmitted to him.
        for_director=Case(
            When(amount_ht__gt=settings.PROCUREMENT_APPROVAL_THRESHOLD, then=Value(True)),
            When(transmitted_at__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def purchase_request_detail(*, actor) -> QuerySet:
    """purchase_requests() with the lines (budget line, TGC rate) and attachments."""
    lines = PurchaseRequestLine.objects.select_related(
        "tax_rate", "budget_line__fiscal_year"
    ).order_by("position")
    attachments = Attachment.objects.select_related("uploaded_by").order_by("uploaded_at", "pk")
    return purchase_requests(actor=actor).prefetch_related(
        Prefetch("lines", queryset=lines), Prefetch("attachments", queryset=attachments)
    )


def tabs_for(user) -> list[str]:
    """The list tabs a user may open: "mine" for the buyers, "to approve" for the
    approvers, "all" for every role that opens the requests."""
    tabs = []
    if holds(user, "enter_purchase_request"):
        tabs.append("mine")
    if holds(user, APPROVE_REQUEST):
        tabs.append("to_approve")
    tabs.append("all")
    return tabs


def default_tab(user) -> str:
    if holds(user, APPROVE_REQUEST):
        return "to_approve"
    if holds(user, "enter_purchase_request"):
        return "mine"
    return "all"


def requests_mine(*, actor) -> QuerySet:
    return purchase_requests(actor=actor).filter(requested_by=actor)


def requests_to_approve(*, actor) -> QuerySet:
    """The submitted requests, those the actor is the usual approver of first: within
    the threshold for the section head, above it or transmitted to him (credits
    short) for the IT director."""
    above_first = holds(actor, "approve_over_threshold")
    qs = purchase_requests(actor=actor).filter(state=State.SUBMITTED)
    first = "-for_director" if above_first else "for_director"
    return qs.order_by(first, "submitted_at", "pk")


def requests_all(*, actor) -> QuerySet:
    return purchase_requests(actor=actor)


# The home page's queues (procurement/home.py): each list opened with ?queue= holds
# exactly these rows.


def requests_drafts(*, actor) -> QuerySet:
    """The buyer's own drafts, not submitted yet."""
    return requests_mine(actor=actor).filter(state=State.DRAFT)


def requests_returned(*, actor) -> QuerySet:
    """The buyer's own requests sent back or rejected by an approver: to rework
    (reopen) or to cancel."""
    return requests_mine(actor=actor).filter(state=State.REJECTED)


def requests_to_order(*, actor) -> QuerySet:
    """Approved requests without an order yet (an order moves a request to "ordered");
    the buyers share this work."""
    return purchase_requests(actor=actor).filter(state=State.APPROVED)


def requests_for_section_head(*, actor) -> QuerySet:
    """Submitted requests the section head decides: within the threshold and not
    transmitted to the IT director."""
    return purchase_requests(actor=actor).filter(
        state=State.SUBMITTED,
        amount_ht__lte=settings.PROCUREMENT_APPROVAL_THRESHOLD,
        transmitted_at__isnull=True,
    )


def requests_over_threshold(*, actor) -> QuerySet:
    """Submitted requests above the threshold: only the IT director approves them."""
    return purchase_requests(actor=actor).filter(
        state=State.SUBMITTED,
        amount_ht__gt=settings.PROCUREMENT_APPROVAL_THRESHOLD,
        transmitted_at__isnull=True,
    )


def requests_transmitted(*, actor) -> QuerySet:
    """Submitted requests the section head transmitted to the IT director (credits short)."""
    return purchase_requests(actor=actor).filter(
        state=State.SUBMITTED, transmitted_at__isnull=False
    )


def requests_tab(*, actor, tab: str) -> QuerySet:
    return {"mine": requests_mine, "to_approve": requests_to_approve, "all": requests_all}[tab](
        actor=actor
    )


# ---------------------------------------------------------------------------
# Availability of the budget lines of a request


@dataclass
class LineAvailability:
    """A budget line a request takes credits from, with its figures now.

    `requested` is the request's total before tax on the line; `available` the
    amount that the commitment check compares it with: the line's available
    amount, or its chapter's in a year controlled by chapter (`scope` says which).
    """

    line: (
        BudgetLine  # from budgets.selectors.line_availability (opened, committed, available_amount)
    )
    requested: int
    available: int
    scope: str  # "line" or "chapter"
    positions: list[int] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.requested <= self.available

    @property
    def shortfall(self) -> int:
        return max(0, self.requested - self.available)

    @property
    def after(self) -> int:
        """What would be left once the request is approved."""
        return self.available - self.requested


def availability_for(
    *, actor, amounts: dict[int, int], positions: dict[int, list[int]] | None = None
) -> dict[int, LineAvailability]:
    """The availability of budget lines against amounts to commit on them
    ({line id: amount}), by line id. The figures are the cached totals of
    budgets.selectors.line_availability; at chapter-level control the available
    amount is the chapter's, and `requested` counts every amount on the chapter.
    """
    positions = positions or {}
    lines = line_availability(actor=actor).in_bulk(list(amounts))
    result: dict[int, LineAvailability] = {}
    chapter_keys = {
        (line.fiscal_year_id, line.nature_account.chapter_id)
        for line in lines.values()
        if line.fiscal_year.control_level == FiscalYear.ControlLevel.CHAPTER
    }
    chapter_available: dict[tuple[int, int], int] = {}
    for year_id, chapter_id in chapter_keys:
        members = line_availability(actor=actor, fiscal_year=year_id).filter(
            nature_account__chapter_id=chapter_id
        )
        chapter_available[(year_id, chapter_id)] = sum(m.available_amount for m in members)
    chapter_requested: dict[tuple[int, int], int] = defaultdict(int)
    for pk, amount in amounts.items():
        line = lines.get(pk)
        if line is not None:
            chapter_requested[(line.fiscal_year_id, line.nature_account.chapter_id)] += amount
    for pk, amount in amounts.items():
        line = lines.get(pk)
        if line is None:
            continue
        key = (line.fiscal_year_id, line.nature_account.chapter_id)
        if key in chapter_available:
            result[pk] = LineAvailability(
                line,
                chapter_requested[key],
                chapter_available[key],
                "chapter",
                positions.get(pk, []),
            )
        else:
            result[pk] = LineAvailability(
                line, amount, line.available_amount, "line", positions.get(pk, [])
            )
    return result


def request_availability(*, actor, request: PurchaseRequest) -> list[LineAvailability]:
    """Each budget line of the request, in the order of its first line, with the
    request's total on it and whether the available amount covers it."""
    amounts: dict[int, int] = defaultdict(int)
    positions: dict[int, list[int]] = defaultdict(list)
    for line in request.lines.all():
        if line.budget_line_id is None:
            continue
        amounts[line.budget_line_id] += line.amount_ht
        positions[line.budget_line_id].append(line.position)
    rows = availability_for(actor=actor, amounts=dict(amounts), positions=dict(positions))
    return [rows[pk] for pk in amounts if pk in rows]


def request_is_short(rows: list[LineAvailability]) -> bool:
    return any(not row.fits for row in rows)


def tax_totals(request: PurchaseRequest):
    """The TGC by rate of the request's lines (common.document_totals): what the
    header shows under the cached HT, TGC and TTC amounts."""
    return document_totals((line.amount_ht, line.tax_rate.rate) for line in request.lines.all())


def budget_line_choices(*, actor) -> QuerySet:
    """The budget lines a request line may name: those of the open years, with their
    figures, grouped by year and section in the select."""
    return (
        line_availability(actor=actor)
        .filter(fiscal_year__state=FiscalYear.State.OPEN)
        .order_by("-fiscal_year__year", "section", "code")
    )


@dataclass(frozen=True)
class TypedAmount:
    """A request line's amount read from what a form holds: `amount` when quantity and
    unit price are both read, `error` (French) when one of them cannot be; both None
    while a field is still empty (the buyer is still typing)."""

    amount: int | None = None
    error: str | None = None


def typed_line_amount(quantity, unit_price) -> TypedAmount:
    """quantity × unit price, rounded to the franc, read as the form reads them: the
    unit price through dsi_finance.money.parse_francs ("250.000" is 250 000, "250.5" is
    refused), the quantity with its decimals (procurement.services.common)."""
    price_text = str(unit_price if unit_price is not None else "").strip()
    quantity_text = str(quantity if quantity is not None else "").strip()
    try:
        price = parse_francs(price_text or None, label=_("The unit price"))
    except ValidationError as error:
        return TypedAmount(error=error.messages[0])
    if price is not None and price <= 0:
        return TypedAmount(error=_("The unit price must be more than zero francs."))
    if not quantity_text:
        return TypedAmount()
    try:
        q = validate_quantity(quantity_text)
    except ValidationError as error:
        return TypedAmount(error=error.messages[0])
    if price is None:
        return TypedAmount()
    return TypedAmount(amount=round_francs(q * price))


def typed_amount(quantity, unit_price) -> int | None:
    """The amount of `typed_line_amount`, or None when it cannot be read yet."""
    return typed_line_amount(quantity, unit_price).amount

"""The director's dashboard: a year's figures beside last year's at the same date, the
monthly cumulative liquidated amount, the figures by section and by chapter, the lines
most at risk, the requests waiting for approval and the invoices late for payment.

Every figure comes from `budgets.selectors` (line_availability / availability_totals /
availability_by, the cached totals proven equal to the ledger) or from sums of ledger
entries grouped by `FIGURE_KINDS`, and carries the URL of the list that shows what it
sums. Everything is aggregated in SQL: a constant number of queries, whatever the size
of the ledger (the monthly and same-date sums read the covering index
budgets.0006_dashboard_ledger_line_created).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from budgets.models import BudgetLine, FiscalYear, LedgerEntry, Section
from budgets.selectors import (
    FIGURE_KINDS,
    Figures,
    availability_by,
    availability_totals,
    current_fiscal_year,
    current_forecasts,
    line_availability,
)
from dsi_finance.roles import holds
from procurement.access import APPROVE_REQUEST
from procurement.models import Invoice, PurchaseRequest
from procurement.selectors.invoices import invoice_list, payment_delays
from procurement.selectors.requests import requests_to_approve

AT_RISK_LIMIT = 10
TABLE_ROWS = 10
# The figures shown as cards, in order; `execution_rate` is liquidated / opened.
CARD_FIGURES = ("opened", "committed", "liquidated", "available", "execution_rate")
# The figures the ledger-entry list (reporting:dashboard-entries) sums.
ENTRY_FIGURES = ("opened", "committed", "liquidated", "available")

# --- Pace: spending against the linear path (helper "layout") -----------------------
# A figure is not good or bad news by itself: a fall of the available amount in November
# is the budget being used. What the director must see is the pace: liquidated ahead of
# the linear path (opened × share of the year elapsed) by more than PACE_TOLERANCE of the
# opened credits warns (credits may run out before December); behind it is information
# (under-execution, credits that may be reallocated); within it, neutral.
PACE_TOLERANCE = Decimal("0.05")
AHEAD, BEHIND, ON_TRACK = "ahead", "behind", "on_track"
# Bootstrap colour of each pace, for the cards (text-<tone>-emphasis, badges) and charts.
PACE_TONES = {AHEAD: "warning", BEHIND: "info", ON_TRACK: "secondary"}


def pace(*, spent: int, opened: int, elapsed: Decimal) -> str | None:
    """AHEAD, BEHIND or ON_TRACK: `spent` against `opened` × `elapsed` (the share of the
    year gone, 0 to 1); None without credits or before the year starts."""
    if opened <= 0 or elapsed <= 0:
        return None
    gap = Decimal(spent - opened * elapsed) / opened
    if gap > PACE_TOLERANCE:
        return AHEAD
    if gap < -PACE_TOLERANCE:
        return BEHIND
    return ON_TRACK


def year_elapsed(year: int, today: date) -> Decimal:
    """The share of calendar year `year` gone at the end of `today` (0 to 1)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    if today < start:
        return Decimal(0)
    if today >= end:
        return Decimal(1)
    return Decimal((today - start).days + 1) / Decimal((end - start).days + 1)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# ---------------------------------------------------------------------------
# The year asked for


class UnknownYear(ValueError):
    """?year= names no fiscal year; `year` is what was asked (cut to 20 characters)."""

    def __init__(self, year: str):
        super().__init__(year)
        self.year = year


def fiscal_year_from(value) -> FiscalYear | None:
    """The fiscal year a `?year=` value names; the current one when empty or absent.
    Raises UnknownYear (French message) for anything else."""
    if value is None or str(value).strip() == "":
        return current_fiscal_year()
    text = str(value).strip()
    year = (
        FiscalYear.objects.filter(year=int(text)).first()
        if text.isdigit() and len(text) <= 4
        else None
    )
    if year is None:
        raise UnknownYear(text[:20])
    return year


# ---------------------------------------------------------------------------
# Ledger sums: by figure up to a date, by month


def end_of_day(day: date) -> datetime:
    """The first instant after `day`, in Nouméa time."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=local_zone())


def same_day(year: int, day: date) -> date:
    """`day`'s month and day in `year` (29 February becomes the 28th)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def year_entries(fiscal_year: FiscalYear | int) -> QuerySet:
    """The ledger entries of the year's lines."""
    return LedgerEntry.objects.filter(budget_line__fiscal_year=fiscal_year)


def figure_entries(
    *, actor=None, fiscal_year: FiscalYear | int, figure: str, until: date | None = None
) -> QuerySet:
    """The entries that make a figure of the year's lines (FIGURE_KINDS), those posted
    up to `until` (a Nouméa date, included) when given: what the ledger list shows."""
    entries = year_entries(fiscal_year).filter(kind__in=FIGURE_KINDS[figure])
    if until is not None:
        entries = entries.filter(created_at__lt=end_of_day(until))
    return entries


def ledger_figures(*, fiscal_year: FiscalYear | int, until: date | None = None) -> Figures:
    """Opened, committed and liquidated of the year's lines as the ledger held them at the
    end of `until` (a Nouméa date): one aggregate query, kept in the cache once `until`
    has passed (see `_past_sums`)."""
    entries = year_entries(fiscal_year)
    if until is None:
        return _figure_sums(entries)
    end = end_of_day(until)
    entries = entries.filter(created_at__lt=end)
    if end > timezone.now():
        return _figure_sums(entries)
    year_id = fiscal_year.pk if isinstance(fiscal_year, FiscalYear) else fiscal_year
    return _past_sums(("figures", year_id), end, lambda: _figure_sums(entries))


def _figure_sums(entries: QuerySet) -> Figures:
    sums = entries.order_by().aggregate(
        **{
            figure: Coalesce(Sum("amount", filter=Q(kind__in=FIGURE_KINDS[figure])), 0)
            for figure in ("opened", "committed", "liquidated")
        }
    )
    return Figures(**sums)


# Sums of the past never change: the ledger is append-only and an entry is dated when
# it is posted, so what the entries dated before an instant that has passed add up to
# is final. The dashboard keeps them in the cache and sums only today's entries live
# (the year's liquidations by month were a scan of the whole year's ledger: ~1 s at a
# million entries). The key also names the latest entry dated before that instant, so
# that entries posted with an earlier date (the demo, played with its clock set back)
# are never hidden by an older value.
PAST_SUMS_TIMEOUT = 24 * 3600


def _past_sums(key: tuple, before: datetime, compute):
    latest = (
        LedgerEntry.objects.filter(created_at__lt=before)
        .order_by("-created_at")
        .values_list("pk", flat=True)
        .first()
    )
    cache_key = "dashboard:" + ":".join(str(part) for part in (*key, before.isoformat(), latest))
    value = cache.get(cache_key)
    if value is None:
        value = compute()
        cache.set(cache_key, value, PAST_SUMS_TIMEOUT)
    return value


def entries_total(entries: QuerySet, figure: str) -> int:
    """What a figure's entries amount to: their sum, or opened − committed for `available`."""
    if figure != "available":
        return entries.order_by().aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    sums = entries.order_by().aggregate(
        opened=Coalesce(Sum("amount", filter=Q(kind__in=FIGURE_KINDS["opened"])), 0),
        committed=Coalesce(Sum("amount", filter=Q(kind__in=FIGURE_KINDS["committed"])), 0),
    )
    return sums["opened"] - sums["committed"]


def _liquidated_by_month(entries: QuerySet) -> dict[tuple[int, int], int]:
    """(year, month) → the liquidated amount the entries add in that Nouméa month."""
    buckets = (
        entries.order_by()
        .annotate(month=TruncMonth("created_at", tzinfo=local_zone()))
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    by_month: dict[tuple[int, int], int] = {}
    for month, total in buckets:  # one row per month
        key = (month.year, month.month)
        by_month[key] = by_month.get(key, 0) + total
    return by_month


def monthly_liquidated(fiscal_year: FiscalYear, *, now: datetime | None = None) -> list[int]:
    """The cumulative liquidated amount of the year's lines at the end of each month of the
    year (12 values), by the Nouméa month of each liquidation entry. What was posted before
    today comes from the cache once summed (`_past_sums`: the first view of the day pays
    for the year); today's entries are one GROUP BY over their own few rows. Entries posted after 31 December (closing) are in no
    month of the year."""
    local_now = timezone.localtime(now or timezone.now(), local_zone())
    day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    liquidations = year_entries(fiscal_year).filter(kind__in=FIGURE_KINDS["liquidated"])
    by_month = dict(
        _past_sums(
            ("liquidated-by-month", fiscal_year.pk),
            day_start,
            lambda: _liquidated_by_month(liquidations.filter(created_at__lt=day_start)),
        )
    )
    for key, total in _liquidated_by_month(liquidations.filter(created_at__gte=day_start)).items():
        by_month[key] = by_month.get(key, 0) + total
    return [
        sum(t for key, t in by_month.items() if key <= (fiscal_year.year, m)) for m in range(1, 13)
    ]


# ---------------------------------------------------------------------------
# URLs of the lists behind the figures


def _url(name: str, args=None, **params) -> str:
    query = urlencode([(key, value) for key, value in params.items() if value is not None])
    base = reverse(name, args=args)
    return f"{base}?{query}" if query else base


def disco_url(year: int, **filters) -> str:
    """The DISCO page (budgets.filters.DiscoFilter) on a year, a section, a chapter…"""
    return _url("budgets:disco", year=year, **filters)


def entries_url(year: int, figure: str, until: date | None = None) -> str:
    """The ledger entries behind a figure of a year, up to a date (reporting:dashboard-entries)."""
    return _url(
        "reporting:dashboard-entries",
        year=year,
        figure=figure,
        until=until.isoformat() if until else None,
    )


# ---------------------------------------------------------------------------
# The dashboard


@dataclass(frozen=True)
class Card:
    key: str  # opened, committed, liquidated, available, execution_rate
    value: int | Decimal | None
    last_year: int | Decimal | None  # at the same date last year; None without a last year
    url: str
    last_year_url: str | None
    pace: str | None = None  # the year's pace, for the figures that spending moves

    @property
    def tone(self) -> str:
        """The colour of its change against last year: the pace's, neutral otherwise."""
        return PACE_TONES.get(self.pace, "secondary")

    @property
    def is_rate(self) -> bool:
        return self.key == "execution_rate"

    @property
    def change(self) -> int | Decimal | None:
        if self.value is None or self.last_year is None:
            return None
        return self.value - self.last_year


@dataclass(frozen=True)
class MonthPoint:
    month: int  # 1..12
    liquidated: int | None  # cumulative at the end of the month; None for months to come
    linear: int  # opened × month / 12
    last_year: int | None  # last year's cumulative at the end of the same month
    url: str | None
    last_year_url: str | None
    pace: str | None = None  # the month's cumulative liquidated against the linear path


@dataclass(frozen=True)
class Bar:
    key: str  # section code or chapter code
    label: str
    opened: int
    committed: int
    liquidated: int
    to_liquidate: int
    available: int
    url: str
    pace: str | None = None  # its liquidated amount against the linear path

    @property
    def tone(self) -> str:
        return PACE_TONES.get(self.pace, "secondary")


@dataclass(frozen=True)
class RiskLine:
    line: BudgetLine  # from line_availability: opened, committed, available_amount…
    forecast: int | None
    headroom: int  # opened − the larger of committed and forecast
    reason: str  # "available", "forecast" or "both"
    url: str


@dataclass(frozen=True)
class WaitingRequests:
    count: int
    amount: int  # before tax
    url: str
    rows: list = field(default_factory=list)  # the first TABLE_ROWS requests


@dataclass(frozen=True)
class LateInvoices:
    count: int
    amount: int  # with tax
    url: str
    average_payment_days: Decimal | None  # received → paid, over the year's paid invoices
    paid_count: int
    delays_url: str
    rows: list = field(default_factory=list)  # the most overdue first


@dataclass(frozen=True)
class Dashboard:
    fiscal_year: FiscalYear | None
    previous_year: FiscalYear | None
    today: date
    as_of: date | None  # the date last year's figures are taken at (None: its whole year)
    cards: list[Card]
    months: list[MonthPoint]
    sections: list[Bar]
    chapters: list[Bar]
    at_risk: list[RiskLine]
    at_risk_url: str
    requests: WaitingRequests | None
    invoices: LateInvoices | None
    years: list[int]
    pace: str | None = None  # the year's liquidated amount against the linear path
    elapsed: Decimal = Decimal(0)  # the share of the year gone

    @property
    def pace_tone(self) -> str:
        return PACE_TONES.get(self.pace, "secondary")

    @property
    def elapsed_percent(self) -> Decimal:
        return self.elapsed * 100

    @property
    def figures(self) -> dict[str, Card]:
        return {card.key: card for card in self.cards}


def _figure_value(figures: Figures, key: str):
    if key == "execution_rate":
        return figures.execution_rate
    return getattr(figures, key)


def _bars(lines: QuerySet, axis: str, year: int, elapsed: Decimal = Decimal(0)) -> list[Bar]:
    bars = []
    for row in availability_by(lines, axis):
        code = row.key[0]
        if axis == "section":
            label = str(Section(code).label)
            url = disco_url(year, section=code)
        else:
            label = f"{code} {row.key[1]}"
            url = disco_url(year, chapter=code)
        f = row.figures
        bars.append(
            Bar(
                key=code,
                label=label,
                opened=f.opened,
                committed=f.committed,
                liquidated=f.liquidated,
                to_liquidate=f.to_liquidate,
                available=f.available,
                url=url,
                pace=pace(spent=f.liquidated, opened=f.opened, elapsed=elapsed),
            )
        )
    return bars


def lines_at_risk(
    *, actor=None, fiscal_year: FiscalYear, limit: int = AT_RISK_LIMIT
) -> list[RiskLine]:
    """The lines whose available amount is under 10 % of their opened credits (the DISCO
    "less than 10 % available" filter: available × 10 < opened) or whose current
    forecast is above their opened credits, the most at risk first.

    Ranking: lines without opened credits first; then by headroom rate, (opened − the
    larger of committed and forecast) / opened, lowest first (the largest expected
    overrun in proportion); then by headroom in francs, lowest first; then by code.
    """
    forecasts = current_forecasts(actor=actor, fiscal_year=fiscal_year)
    over = forecasts.filter(amount__gt=F("budget_line__opened")).values("budget_line_id")
    forecast = Subquery(
        forecasts.filter(budget_line=OuterRef("pk")).order_by().values("amount")[:1],
        output_field=BigIntegerField(),
    )
    exposure = Case(
        When(forecast_amount__gt=F("committed"), then=F("forecast_amount")),
        default=F("committed"),
        output_field=BigIntegerField(),
    )
    lines = (
        line_availability(actor=actor, fiscal_year=fiscal_year)
        .alias(available_tenfold=F("available_amount") * 10)
        .filter(Q(available_tenfold__lt=F("opened")) | Q(pk__in=over))
        .annotate(forecast_amount=forecast)
        .annotate(headroom=F("opened") - exposure)
        .annotate(
            no_credits=Case(When(opened__gt=0, then=Value(1)), default=Value(0)),
            headroom_rate=Case(
                When(
                    opened__gt=0,
                    then=Cast(F("headroom"), FloatField()) / Cast(F("opened"), FloatField()),
                ),
                default=None,
                output_field=FloatField(),
            ),
        )
        .order_by("no_credits", "headroom_rate", "headroom", "code")
    )
    result = []
    for line in lines[:limit]:
        low = line.available_amount * 10 < line.opened
        above = line.forecast_amount is not None and line.forecast_amount > line.opened
        result.append(
            RiskLine(
                line=line,
                forecast=line.forecast_amount,
                headroom=line.headroom,
                reason="both" if low and above else ("available" if low else "forecast"),
                url=reverse("budgets:line-detail", args=[line.pk]),
            )
        )
    return result


def waiting_requests(*, actor, fiscal_year: FiscalYear) -> WaitingRequests:
    """The year's submitted requests, waiting for an approval (the "to approve" tab's
    condition, for the whole house): count, amount before tax, the first ones."""
    waiting = requests_to_approve(actor=actor).filter(fiscal_year=fiscal_year)
    sums = waiting.order_by().aggregate(count=Count("pk"), amount=Coalesce(Sum("amount_ht"), 0))
    if holds(actor, APPROVE_REQUEST):
        url = _url("procurement:request-list", tab="to_approve", year=fiscal_year.year)
    else:  # the "to approve" tab is the approvers'; the others read the same in "all"
        url = _url(
            "procurement:request-list",
            tab="all",
            year=fiscal_year.year,
            state=PurchaseRequest.State.SUBMITTED,
        )
    rows = list(waiting[:TABLE_ROWS]) if sums["count"] else []
    return WaitingRequests(count=sums["count"], amount=sums["amount"], url=url, rows=rows)


def late_invoices(*, actor, fiscal_year: FiscalYear, today: date) -> LateInvoices:
    """The year's invoices late for payment (the "late" tab: live, unpaid, past due):
    count and amount with tax, the most overdue first; and the average payment delay
    of the year's paid invoices (procurement.selectors.invoices.payment_delays)."""
    late = invoice_list(actor=actor, tab="late", year=fiscal_year, today=today)
    sums = late.order_by().aggregate(count=Count("pk"), amount=Coalesce(Sum("amount_ttc"), 0))
    delays = payment_delays(actor=actor, queryset=Invoice.objects.filter(fiscal_year=fiscal_year))
    rows = list(late[:TABLE_ROWS]) if sums["count"] else []
    return LateInvoices(
        count=sums["count"],
        amount=sums["amount"],
        url=_url("procurement:invoice-list", tab="late", year=fiscal_year.year),
        average_payment_days=delays.average_days,
        paid_count=delays.count,
        delays_url=_url(
            "procurement:invoice-list",
            tab="all",
            year=fiscal_year.year,
            state=Invoice.State.LIQUIDATED,
        ),
        rows=rows,
    )


def _comparison_date(fiscal_year: FiscalYear, today: date) -> date | None:
    """The date last year's figures are taken at: today's day in last year for the
    current year or a year to come; None (last year complete) for a past year."""
    if fiscal_year.year < today.year:
        return None
    return same_day(fiscal_year.year - 1, today)


def _months_elapsed(fiscal_year: FiscalYear, today: date) -> int:
    if fiscal_year.year < today.year:
        return 12
    if fiscal_year.year > today.year:
        return 0
    return today.month


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def dashboard(*, actor, fiscal_year: FiscalYear | int | None = None, today: date | None = None):
    """The director's dashboard of a year (the current one by default)."""
    today = today or timezone.localdate()
    if isinstance(fiscal_year, int):
        fiscal_year = FiscalYear.objects.get(year=fiscal_year)
    fiscal_year = fiscal_year or current_fiscal_year()
    years = list(FiscalYear.objects.order_by("-year").values_list("year", flat=True))
    if fiscal_year is None:
        return Dashboard(None, None, today, None, [], [], [], [], [], "", None, None, years)
    year = fiscal_year.year
    previous = FiscalYear.objects.filter(year=year - 1).first()
    as_of = _comparison_date(fiscal_year, today)

    lines = line_availability(actor=actor, fiscal_year=fiscal_year)
    totals = availability_totals(lines)
    last = None
    if previous is not None:
        if as_of is None:
            last = availability_totals(line_availability(actor=actor, fiscal_year=previous))
        else:
            last = ledger_figures(fiscal_year=previous, until=as_of)

    elapsed_share = year_elapsed(year, today)
    year_pace = pace(spent=totals.liquidated, opened=totals.opened, elapsed=elapsed_share)
    cards = []
    for key in CARD_FIGURES:
        last_year_url = None
        if previous is not None:
            last_year_url = (
                disco_url(previous.year)
                if as_of is None or key == "execution_rate"
                else entries_url(previous.year, key, as_of)
            )
        cards.append(
            Card(
                key=key,
                value=_figure_value(totals, key),
                last_year=_figure_value(last, key) if last is not None else None,
                url=disco_url(year),
                last_year_url=last_year_url,
                # The opened credits are voted, not spent: their change has no pace.
                pace=None if key == "opened" else year_pace,
            )
        )

    elapsed = _months_elapsed(fiscal_year, today)
    current = monthly_liquidated(fiscal_year)
    before = monthly_liquidated(previous) if previous is not None else None
    months = []
    for m in range(1, 13):
        shown = m <= elapsed
        months.append(
            MonthPoint(
                month=m,
                liquidated=current[m - 1] if shown else None,
                linear=(totals.opened * m + 6) // 12,
                last_year=before[m - 1] if before is not None else None,
                url=entries_url(year, "liquidated", _month_end(year, m)) if shown else None,
                last_year_url=(
                    entries_url(previous.year, "liquidated", _month_end(previous.year, m))
                    if previous is not None
                    else None
                ),
                pace=(
                    pace(spent=current[m - 1], opened=totals.opened, elapsed=Decimal(m) / 12)
                    if shown
                    else None
                ),
            )
        )

    return Dashboard(
        fiscal_year=fiscal_year,
        previous_year=previous,
        today=today,
        as_of=as_of,
        cards=cards,
        months=months,
        sections=_bars(lines, "section", year, elapsed_share),
        chapters=_bars(lines, "chapter", year, elapsed_share),
        at_risk=lines_at_risk(actor=actor, fiscal_year=fiscal_year),
        at_risk_url=disco_url(year, low="on"),
        requests=waiting_requests(actor=actor, fiscal_year=fiscal_year),
        invoices=late_invoices(actor=actor, fiscal_year=fiscal_year, today=today),
        years=years,
        pace=year_pace,
        elapsed=elapsed_share,
    )

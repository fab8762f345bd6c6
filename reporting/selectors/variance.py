"""The variance analysis: each line's voted credits beside what is committed,
liquidated and forecast for the year end, the lines that will overrun, those with
a surplus, and how the surpluses could cover the overruns.

The figures come from `budgets.selectors.line_availability` (opened, committed,
liquidated) and `budgets.selectors.current_forecasts`; everything after
`variance_rows` is pure Python over its rows, shared by the page, the XLSX/PDF
report and the draft DM service.

Words:
- opened ("voted"): the line's credits opened by the BP, the voted DMs and the
  approved transfers;
- forecast: the line's current forecast (its latest month up to the one asked
  for); a line without one is taken at its committed amount (`forecast_entered`
  is then False, and the page says so);
- gap = forecast − opened (positive: the line will overrun);
- surplus = opened − max(forecast, committed): what a line can give without ever
  touching committed credits.
"""

from dataclasses import dataclass
from decimal import Decimal

from budgets.models import BudgetLine, FiscalYear
from budgets.selectors import current_forecasts, line_availability, percent

TRANSFER = "transfer"
DM = "dm"


class _Percents:
    """The figures of a line or of a total in percent of its opened credits (None when
    nothing is opened); the gap is forecast − opened."""

    @property
    def gap_percent(self) -> Decimal | None:
        return percent(self.gap, self.opened)

    @property
    def committed_percent(self) -> Decimal | None:
        return percent(self.committed, self.opened)

    @property
    def liquidated_percent(self) -> Decimal | None:
        return percent(self.liquidated, self.opened)

    @property
    def forecast_percent(self) -> Decimal | None:
        return percent(self.forecast, self.opened)


@dataclass(frozen=True)
class VarianceRow(_Percents):
    """One budget line in the variance analysis (amounts in whole francs)."""

    line: BudgetLine
    opened: int
    committed: int
    liquidated: int
    forecast: int
    forecast_entered: bool  # False: no forecast yet, the committed amount stands in
    forecast_month: int | None = None  # the month of the forecast used

    @property
    def gap(self) -> int:
        """forecast − opened: positive when the line will overrun."""
        return self.forecast - self.opened

    @property
    def overrun(self) -> int:
        """What the forecast exceeds the opened credits by (0 when it does not)."""
        return max(self.forecast - self.opened, 0)

    @property
    def surplus(self) -> int:
        """What the line can give: opened − max(forecast, committed), never below 0.
        Committed credits are never proposed."""
        return max(self.opened - max(self.forecast, self.committed), 0)


@dataclass(frozen=True)
class VarianceTotals(_Percents):
    lines: int
    opened: int
    committed: int
    liquidated: int
    forecast: int
    overrun: int  # the sum of the overruns
    surplus: int  # the sum of the surpluses

    @property
    def gap(self) -> int:
        return self.forecast - self.opened


@dataclass(frozen=True)
class Proposal:
    """Move `amount` francs of credits from `source` (a surplus) to `target` (an overrun):
    by a transfer when both lines are in the same section, else by a DM change."""

    source: BudgetLine
    target: BudgetLine
    amount: int
    means: str  # TRANSFER or DM

    @property
    def is_transfer(self) -> bool:
        return self.means == TRANSFER


@dataclass(frozen=True)
class Uncovered:
    """The part of an overrun that no surplus covers."""

    line: BudgetLine
    overrun: int
    amount: int


def variance_rows(
    *, actor=None, fiscal_year: FiscalYear | int, month: int | None = None
) -> list[VarianceRow]:
    """Every line of the year (by code) with its opened, committed and liquidated
    amounts (as they stand now, from line_availability) and its current forecast as
    estimated up to `month` (the latest month when None)."""
    forecasts = {
        forecast.budget_line_id: forecast
        for forecast in current_forecasts(actor=actor, fiscal_year=fiscal_year, month=month)
    }
    rows = []
    for line in line_availability(actor=actor, fiscal_year=fiscal_year):
        forecast = forecasts.get(line.pk)
        rows.append(
            VarianceRow(
                line=line,
                opened=line.opened,
                committed=line.committed,
                liquidated=line.liquidated,
                forecast=forecast.amount if forecast else line.committed,
                forecast_entered=forecast is not None,
                forecast_month=forecast.month if forecast else None,
            )
        )
    return rows


def variance_totals(rows: list[VarianceRow]) -> VarianceTotals:
    """The sums of the rows (the percentages are those of the sums)."""
    return VarianceTotals(
        lines=len(rows),
        opened=sum(row.opened for row in rows),
        committed=sum(row.committed for row in rows),
        liquidated=sum(row.liquidated for row in rows),
        forecast=sum(row.forecast for row in rows),
        overrun=sum(row.overrun for row in rows),
        surplus=sum(row.surplus for row in rows),
    )


def overruns(rows: list[VarianceRow]) -> list[VarianceRow]:
    """The lines whose forecast exceeds the opened credits, the largest overrun first."""
    return sorted((row for row in rows if row.overrun > 0), key=lambda r: (-r.overrun, r.line.code))


def surpluses(rows: list[VarianceRow]) -> list[VarianceRow]:
    """The lines with a surplus (opened − max(forecast, committed) > 0), the largest first."""
    return sorted((row for row in rows if row.surplus > 0), key=lambda r: (-r.surplus, r.line.code))


def cover_proposals(rows: list[VarianceRow]) -> list[Proposal]:
    """How the surpluses could cover the overruns, deterministically.

    The overruns are served largest first (then by code). Each first takes from the
    surpluses of its own section, largest remaining first (then by code): those are
    transfers. What is still missing then comes from the other section's surpluses,
    as DM changes (a transfer cannot cross sections). A line never gives more than
    its surplus in total over all the proposals, and a line never receives more than
    its overrun; what no surplus covers is left over (see `uncovered`).
    """
    targets = overruns(rows)
    sources = surpluses(rows)
    left = {id(row): row.surplus for row in sources}
    needs = {id(row): row.overrun for row in targets}
    proposals: list[Proposal] = []
    for same_section in (True, False):
        for target in targets:
            for source in sorted(sources, key=lambda r: (-left[id(r)], r.line.code)):
                if needs[id(target)] <= 0:
                    break
                if (source.line.section == target.line.section) != same_section:
                    continue
                amount = min(left[id(source)], needs[id(target)])
                if amount <= 0:
                    continue
                left[id(source)] -= amount
                needs[id(target)] -= amount
                proposals.append(
                    Proposal(
                        source=source.line,
                        target=target.line,
                        amount=amount,
                        means=TRANSFER if same_section else DM,
                    )
                )
    return proposals


def uncovered(rows: list[VarianceRow], proposals: list[Proposal] | None = None) -> list[Uncovered]:
    """Each overrun that the proposals (by default `cover_proposals(rows)`) leave
    partly or wholly uncovered, with the amount still missing."""
    if proposals is None:
        proposals = cover_proposals(rows)
    received: dict[int, int] = {}
    for proposal in proposals:
        received[proposal.target.pk] = received.get(proposal.target.pk, 0) + proposal.amount
    return [
        Uncovered(
            line=row.line, overrun=row.overrun, amount=row.overrun - received.get(row.line.pk, 0)
        )
        for row in overruns(rows)
        if row.overrun > received.get(row.line.pk, 0)
    ]

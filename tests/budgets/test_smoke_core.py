import pytest

from budgets import services
from budgets.selectors import ledger_differences, line_availability
from tests.factories import BudgetLineFactory, fund

pytestmark = pytest.mark.django_db


def test_core_flow(directeur, chef):
    line = BudgetLineFactory()
    fund({line: 1000})
    assert line.opened == 1000
    services.credits_commit(user=chef, document=line, amounts={line: 600})
    with pytest.raises(services.CreditsShortError) as err:
        services.credits_commit(user=chef, document=line, amounts={line: 600})
    print(err.value.messages)
    result = services.credits_commit(user=directeur, document=line, amounts={line: 600}, override_reason="urgence")
    assert result.overridden
    services.credits_liquidate(user=chef, document=line, line=line, amount=500)
    row = line_availability().get(pk=line.pk)
    assert (row.opened, row.committed, row.liquidated, row.available_amount, row.to_liquidate_amount) == (1000, 1200, 500, -200, 700)
    print(row.execution_rate, row.commitment_rate)
    assert ledger_differences() == []

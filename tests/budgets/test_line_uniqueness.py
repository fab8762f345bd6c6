"""A budget line is unique on its axes within its year, with or without a project."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from budgets import services
from budgets.models import BudgetLine
from tests.factories import BudgetLineFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_second_line_on_the_same_axes_without_project_is_refused(chef):
    line = BudgetLineFactory()
    with pytest.raises(ValidationError):
        services.budget_line_create(
            user=chef,
            fiscal_year=line.fiscal_year,
            code="AUTRE-CODE",
            label="Doublon",
            nature_account=line.nature_account,
            cost_centre=line.cost_centre,
        )
    assert BudgetLine.objects.count() == 1


def test_the_database_itself_refuses_the_duplicate_without_project():
    line = BudgetLineFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetLine.objects.create(
            fiscal_year=line.fiscal_year,
            code="AUTRE-CODE",
            label="Doublon",
            section=line.section,
            nature_account=line.nature_account,
            cost_centre=line.cost_centre,
        )


def test_the_same_axes_may_carry_one_line_per_project(chef):
    line = BudgetLineFactory()
    for project in (ProjectFactory(), ProjectFactory()):
        services.budget_line_create(
            user=chef,
            fiscal_year=line.fiscal_year,
            code=f"L-{project.code}",
            label="Par projet",
            nature_account=line.nature_account,
            cost_centre=line.cost_centre,
            project=project,
        )
    assert BudgetLine.objects.count() == 3

"""The demo's request subjects read as French: every subject the builder can write, for
every line of the demo budget, is checked without seeding anything (« Renfort de
l'équipe l'équipe applications » was one of them)."""

import pytest

from budgets import demo as budget_demo
from budgets.models import BudgetLine, CostCentre, NatureAccount
from procurement import demo
from tests.procurement.french_subjects import faults


def demo_lines() -> list[BudgetLine]:
    """Every line the demo budget creates (unsaved: only what the subjects read)."""
    centres = {code: label for code, label in budget_demo.COST_CENTRES}
    rows = [row[:4] for row in budget_demo.LINES] + [row[:4] for row in budget_demo.DM1_NEW_LINES]
    return [
        BudgetLine(
            nature_account=NatureAccount(number=account),
            cost_centre=CostCentre(code=centre, label=centres[centre]),
            label=label,
        )
        for account, centre, _project, label in rows
    ]


def every_subject() -> set[str]:
    subjects = set()
    for line in demo_lines():
        for template in demo.subject_templates(line):
            for with_label in (False, True):
                subjects.add(demo.request_subject(template, line, with_label=with_label))
    return subjects


@pytest.mark.parametrize(
    ("subject", "fault"),
    [
        ("Renfort de l'équipe l'équipe applications", "repeated"),
        ("Maintenance de des sites de Brousse", "« de des »"),
        ("Location de matériel – Location de groupes électrogènes", "repeated"),
        ("Fournitures pour les sites de Brousse – Électricité de Brousse", "repeated"),
        ("Prestation pour l'équipe support – Support de proximité", "twice"),
        ("Prestation pour la direction – Assistance à la passation des marchés", None),
        ("Licences pour la la direction", "twice"),
    ],
)
def test_the_check_finds_what_users_saw(subject, fault):
    if fault is None:
        assert faults(subject) == []
    else:
        assert any(fault in found for found in faults(subject)), faults(subject)


def test_every_cost_centre_of_the_demo_has_its_name_in_subjects():
    assert {code for code, _label in budget_demo.COST_CENTRES} <= set(demo.CENTRE_NAMES)


def test_every_subject_the_demo_can_write_is_well_formed():
    subjects = every_subject()
    assert len(subjects) > 300  # every line, template and form of it
    assert {subject: faults(subject) for subject in subjects if faults(subject)} == {}


def test_the_subjects_name_the_centre_with_its_article():
    subjects = every_subject()
    assert "Renfort de l'équipe applications" in subjects
    assert "Maintenance des sites de Brousse et des Îles" in subjects
    assert "Formation des agents de la direction" in subjects
    assert "Achat de matériel pour les sites de Brousse et des Îles" in subjects


def test_a_label_that_repeats_the_subject_replaces_it():
    line = BudgetLine(
        nature_account=NatureAccount(number="6135"),
        cost_centre=CostCentre(code="SITES", label="Sites de Brousse et des Îles"),
        label="Location de groupes électrogènes pour les sites isolés",
    )
    assert demo.request_subject("Location de matériel", line, with_label=True) == line.label
    assert demo.request_subject("Prestation pour {centre}", line, with_label=True) == line.label
    assert (
        demo.request_subject("Assistance technique", line, with_label=True)
        == "Assistance technique – Location de groupes électrogènes pour les sites isolés"
    )


def test_the_fixed_subjects_of_the_demo_are_well_formed():
    fixed = [row[2] for row in demo.RECURRING] + [row[2] for row in demo.OVER_THRESHOLD]
    fixed += [row[2] for row in demo.OVERRIDES]
    assert {subject: faults(subject) for subject in fixed if faults(subject)} == {}

"""The variance analysis: its figures, the cover proposals (never more than a
surplus), the draft DM they make (balanced), the transfer request, and the page."""

import io
from types import SimpleNamespace

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from budgets import services
from budgets.models import BudgetRevision, RevisionItem, Transfer
from dsi_finance.errors import ServiceError
from reporting.selectors.variance import (
    DM,
    TRANSFER,
    VarianceRow,
    cover_proposals,
    overruns,
    surpluses,
    uncovered,
    variance_rows,
    variance_totals,
)
from reporting.services.variance import variance_draft_dm, variance_transfer_request
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)

URL = reverse("reporting:variance")
DRAFT_URL = reverse("reporting:variance-draft-dm")
TRANSFER_URL = reverse("reporting:variance-transfer")


# ---------------------------------------------------------------------------
# A small year with exact figures
#
#   line  section  voted      committed  liquidated forecast          overrun  surplus
#   F-A   F        1 000 000    900 000    400 000  1 500 000 (nov)   500 000        0
#   F-B   F          800 000    200 000          0    650 000 (oct)         0  150 000
#   F-C   F          400 000    100 000          0   (none: 100 000)        0  300 000
#   I-D   I        2 000 000  1 500 000          0  1 200 000 (nov)         0  500 000
#   I-E   I          300 000    300 000          0    700 000 (nov)   400 000        0


@pytest.fixture
def year(db):
    return FiscalYearFactory(year=2026, state="open")


@pytest.fixture
def lines(db, year, chef):
    operating = ChapterFactory(code="011", section="F")
    investment = ChapterFactory(code="21", label="Immobilisations corporelles", section="I")
    made = {
        code: BudgetLineFactory(
            fiscal_year=year,
            code=code,
            label=f"Ligne {code}",
            nature_account=NatureAccountFactory(
                chapter=operating if code.startswith("F") else investment
            ),
        )
        for code in ("F-A", "F-B", "F-C", "I-D", "I-E")
    }
    fund(
        {
            made["F-A"]: 1_000_000,
            made["F-B"]: 800_000,
            made["F-C"]: 400_000,
            made["I-D"]: 2_000_000,
            made["I-E"]: 300_000,
        }
    )
    for code, amount in (
        ("F-A", 900_000),
        ("F-B", 200_000),
        ("F-C", 100_000),
        ("I-D", 1_500_000),
        ("I-E", 300_000),
    ):
        services.credits_commit(user=chef, document=made[code], amounts={made[code]: amount})
    services.credits_liquidate(user=chef, document=made["F-A"], line=made["F-A"], amount=400_000)
    services.forecast_set(user=chef, budget_line=made["F-A"], month=10, amount=1_100_000)
    services.forecast_set(user=chef, budget_line=made["F-A"], month=11, amount=1_500_000)
    services.forecast_set(user=chef, budget_line=made["F-B"], month=10, amount=650_000)
    services.forecast_set(user=chef, budget_line=made["I-D"], month=11, amount=1_200_000)
    services.forecast_set(user=chef, budget_line=made["I-E"], month=11, amount=700_000)
    for line in made.values():
        line.refresh_from_db()
    return made


def figures(rows):
    return {
        row.line.code: (row.opened, row.committed, row.liquidated, row.forecast, row.gap)
        for row in rows
    }


def test_each_line_shows_voted_committed_liquidated_and_forecast(lines, year, chef):
    rows = variance_rows(actor=chef, fiscal_year=year)
    assert figures(rows) == {
        "F-A": (1_000_000, 900_000, 400_000, 1_500_000, 500_000),
        "F-B": (800_000, 200_000, 0, 650_000, -150_000),
        "F-C": (400_000, 100_000, 0, 100_000, -300_000),
        "I-D": (2_000_000, 1_500_000, 0, 1_200_000, -800_000),
        "I-E": (300_000, 300_000, 0, 700_000, 400_000),
    }
    by_code = {row.line.code: row for row in rows}
    assert [by_code[c].forecast_entered for c in ("F-A", "F-C")] == [True, False]
    assert str(by_code["F-A"].gap_percent) == "50.0"
    assert str(by_code["I-E"].gap_percent) == "133.3"
    assert str(by_code["F-A"].liquidated_percent) == "40.0"
    assert {row.line.code: row.surplus for row in rows} == {
        "F-A": 0,
        "F-B": 150_000,
        "F-C": 300_000,
        "I-D": 500_000,  # its forecast is below what is committed: only voted − committed
        "I-E": 0,
    }


def test_an_earlier_month_uses_the_forecasts_known_then(lines, year):
    rows = variance_rows(fiscal_year=year, month=10)
    assert {row.line.code: (row.forecast, row.forecast_month) for row in rows} == {
        "F-A": (1_100_000, 10),
        "F-B": (650_000, 10),
        "F-C": (100_000, None),
        "I-D": (1_500_000, None),
        "I-E": (300_000, None),
    }


def test_the_totals_add_up_the_lines(lines, year):
    totals = variance_totals(variance_rows(fiscal_year=year))
    assert (totals.lines, totals.opened, totals.committed, totals.liquidated, totals.forecast) == (
        5,
        4_500_000,
        3_000_000,
        400_000,
        4_150_000,
    )
    assert (totals.gap, str(totals.gap_percent), totals.overrun, totals.surplus) == (
        -350_000,
        "-7.8",
        900_000,
        950_000,
    )
    assert str(totals.liquidated_percent) == "8.9"


def test_overruns_and_surpluses_are_listed_largest_first(lines, year):
    rows = variance_rows(fiscal_year=year)
    assert [(r.line.code, r.overrun) for r in overruns(rows)] == [
        ("F-A", 500_000),
        ("I-E", 400_000),
    ]
    assert [(r.line.code, r.surplus) for r in surpluses(rows)] == [
        ("I-D", 500_000),
        ("F-C", 300_000),
        ("F-B", 150_000),
    ]


def test_proposals_cover_from_the_same_section_first_then_by_dm(lines, year):
    proposals = cover_proposals(variance_rows(fiscal_year=year))
    assert [(p.source.code, p.target.code, p.amount, p.means) for p in proposals] == [
        ("F-C", "F-A", 300_000, TRANSFER),
        ("F-B", "F-A", 150_000, TRANSFER),
        ("I-D", "I-E", 400_000, TRANSFER),
        ("I-D", "F-A", 50_000, DM),
    ]
    assert uncovered(variance_rows(fiscal_year=year)) == []


# ---------------------------------------------------------------------------
# cover_proposals is a pure function: properties over random years


def fake_row(pk, section, opened, committed, forecast):
    line = SimpleNamespace(pk=pk, code=f"L{pk:03d}", section=section, label="")
    return VarianceRow(
        line=line,
        opened=opened,
        committed=committed,
        liquidated=0,
        forecast=forecast,
        forecast_entered=True,
    )


amounts = st.integers(min_value=0, max_value=5_000_000)
random_rows = st.lists(
    st.tuples(st.sampled_from("FI"), amounts, amounts, amounts), min_size=0, max_size=25
).map(lambda specs: [fake_row(i + 1, *spec) for i, spec in enumerate(specs)])


@hypothesis_settings(max_examples=400, deadline=None)
@given(random_rows)
def test_no_proposal_ever_takes_more_than_a_surplus_or_gives_more_than_an_overrun(rows):
    proposals = cover_proposals(rows)
    by_pk = {row.line.pk: row for row in rows}
    given_by: dict[int, int] = {}
    received_by: dict[int, int] = {}
    for p in proposals:
        assert p.amount > 0
        assert p.source.pk != p.target.pk
        assert p.means == (TRANSFER if p.source.section == p.target.section else DM)
        given_by[p.source.pk] = given_by.get(p.source.pk, 0) + p.amount
        received_by[p.target.pk] = received_by.get(p.target.pk, 0) + p.amount
    for pk, amount in given_by.items():
        row = by_pk[pk]
        assert amount <= row.surplus
        assert amount <= row.opened - row.committed  # committed credits are never taken
        assert pk not in received_by  # a line gives or receives, never both
    for pk, amount in received_by.items():
        assert amount <= by_pk[pk].overrun
    # Totals balance: what is given is what is received; the rest is reported.
    assert sum(given_by.values()) == sum(received_by.values())
    missing = uncovered(rows, proposals)
    total_overrun = sum(row.overrun for row in rows)
    total_surplus = sum(row.surplus for row in rows)
    assert sum(u.amount for u in missing) == total_overrun - sum(received_by.values())
    # Greedy and complete: as much is covered as the surpluses allow.
    assert sum(received_by.values()) == min(total_overrun, total_surplus)


@hypothesis_settings(max_examples=200, deadline=None)
@given(random_rows)
def test_a_transfer_is_proposed_whenever_the_section_has_surplus_left(rows):
    """No DM crosses sections while the target's own section still has surplus."""
    proposals = cover_proposals(rows)
    given_by: dict[int, int] = {}
    for p in proposals:
        given_by[p.source.pk] = given_by.get(p.source.pk, 0) + p.amount
    for p in proposals:
        if p.means == DM:
            same_section_left = sum(
                row.surplus - given_by.get(row.line.pk, 0)
                for row in rows
                if row.line.section == p.target.section
            )
            assert same_section_left == 0


@hypothesis_settings(max_examples=100, deadline=None)
@given(random_rows)
def test_the_proposals_do_not_depend_on_the_order_of_the_rows(rows):
    first = [(p.source.pk, p.target.pk, p.amount, p.means) for p in cover_proposals(rows)]
    again = [(p.source.pk, p.target.pk, p.amount, p.means) for p in cover_proposals(rows[::-1])]
    assert first == again


def test_an_overrun_without_surplus_is_reported_uncovered():
    rows = [fake_row(1, "F", 100, 100, 180), fake_row(2, "I", 100, 60, 70)]
    proposals = cover_proposals(rows)
    assert [(p.source.pk, p.target.pk, p.amount, p.means) for p in proposals] == [(2, 1, 30, DM)]
    assert [(u.line.pk, u.overrun, u.amount) for u in uncovered(rows)] == [(1, 80, 50)]


def test_a_line_with_nothing_opened_has_no_gap_percent():
    row = fake_row(1, "F", 0, 0, 10)
    assert (row.gap, row.gap_percent, row.overrun, row.surplus) == (10, None, 10, 0)


# ---------------------------------------------------------------------------
# The draft DM


def test_the_draft_dm_carries_the_proposals_and_balances(lines, year, chef):
    revision = variance_draft_dm(user=chef, fiscal_year=year, month=11)
    assert (revision.kind, revision.state) == ("DM1", "draft")
    items = {item.budget_line.code: item for item in revision.items.select_related("budget_line")}
    assert {code: item.amount for code, item in items.items()} == {
        "F-A": 500_000,
        "I-E": 400_000,
        "F-B": -150_000,
        "F-C": -300_000,
        "I-D": -450_000,
    }
    assert sum(item.amount for item in items.values()) == 0
    assert "analyse des écarts de novembre 2026" in items["F-A"].justification
    rows = {row.line.code: row for row in variance_rows(fiscal_year=year, month=11)}
    for code, item in items.items():
        if item.amount < 0:
            assert -item.amount <= rows[code].surplus


def test_the_draft_dm_can_be_submitted_without_cutting_below_committed(
    lines, year, chef, directeur
):
    revision = variance_draft_dm(user=chef, fiscal_year=year)
    services.revision_submit(user=directeur, revision=revision)  # refuses cuts below committed
    revision.refresh_from_db()
    assert (revision.state, revision.submitted_by) == ("submitted", directeur)
    # Each cut leaves its line at least what is committed on it (F-C exactly: 100 000).
    after_cuts = {
        item.budget_line.code: item.budget_line.opened + item.amount
        for item in revision.items.select_related("budget_line")
        if item.amount < 0
    }
    assert after_cuts == {"F-B": 650_000, "F-C": 100_000, "I-D": 1_550_000}
    for code, left in after_cuts.items():
        assert left >= lines[code].committed, code


def test_the_draft_goes_into_dm2_once_dm1_is_voted(lines, year, chef):
    fund({lines["F-B"]: 10_000}, kind="DM1")
    revision = variance_draft_dm(user=chef, fiscal_year=year)
    assert revision.kind == "DM2"
    assert sum(revision.items.values_list("amount", flat=True)) == 0


def test_a_year_whose_dm2_is_voted_is_refused_in_french(lines, year, chef):
    fund({lines["F-B"]: 10_000}, kind="DM1")
    fund({lines["F-B"]: 10_000}, kind="DM2")
    with pytest.raises(ServiceError) as error:
        variance_draft_dm(user=chef, fiscal_year=year)
    assert "La DM2 2026 est votée" in error.value.messages[0]


def test_a_draft_dm_that_already_has_lines_is_left_alone(lines, year, chef):
    dm1 = services.revision_create(user=chef, fiscal_year=year, kind="DM1")
    services.revision_item_set(user=chef, revision=dm1, budget_line=lines["F-B"], amount=-1_000)
    with pytest.raises(ServiceError) as error:
        variance_draft_dm(user=chef, fiscal_year=year)
    assert "DM1 2026" in error.value.messages[0]
    assert list(dm1.items.values_list("amount", flat=True)) == [-1_000]


def test_an_empty_draft_dm_is_filled(lines, year, chef):
    dm1 = services.revision_create(user=chef, fiscal_year=year, kind="DM1")
    assert variance_draft_dm(user=chef, fiscal_year=year) == dm1
    assert dm1.items.count() == 5


def test_nothing_to_cover_is_refused(year, chef):
    line = BudgetLineFactory(fiscal_year=year)
    fund({line: 1_000})
    with pytest.raises(ServiceError) as error:
        variance_draft_dm(user=chef, fiscal_year=year)
    assert "rien" in error.value.messages[0]
    assert not BudgetRevision.objects.filter(kind="DM1").exists()


def test_only_pilotage_makes_the_draft_dm(lines, year, directeur, controleur):
    for user in (directeur, controleur):
        with pytest.raises(PermissionDenied):
            variance_draft_dm(user=user, fiscal_year=year)
    assert not BudgetRevision.objects.filter(kind="DM1").exists()


def test_a_proposal_becomes_a_transfer_request_for_its_amount(lines, year, chef):
    transfer = variance_transfer_request(
        user=chef,
        fiscal_year=year,
        month=None,
        source_id=lines["F-C"].pk,
        target_id=lines["F-A"].pk,
    )
    assert (transfer.source, transfer.target, transfer.amount, transfer.state) == (
        lines["F-C"],
        lines["F-A"],
        300_000,
        "requested",
    )
    assert "analyse des écarts 2026" in transfer.reason
    with pytest.raises(ServiceError) as error:
        variance_transfer_request(
            user=chef,
            fiscal_year=year,
            month=None,
            source_id=lines["F-C"].pk,
            target_id=lines["F-A"].pk,
        )
    assert "attend" in error.value.messages[0]
    assert Transfer.objects.count() == 1


def test_a_dm_proposal_or_an_unknown_pair_is_no_transfer(lines, year, chef):
    for source, target in (("I-D", "F-A"), ("F-A", "F-B")):
        with pytest.raises(ServiceError):
            variance_transfer_request(
                user=chef,
                fiscal_year=year,
                month=None,
                source_id=lines[source].pk,
                target_id=lines[target].pk,
            )
    assert not Transfer.objects.exists()


# ---------------------------------------------------------------------------
# The page


@pytest.mark.parametrize("who", ["chef", "directeur", "controleur"])
def test_the_roles_that_read_everything_see_the_variance_page(request, client_as, lines, who):
    response = client_as(request.getfixturevalue(who)).get(URL, {"year": 2026})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-line="F-A"' in page
    assert lines["F-A"].get_absolute_url() in page
    assert "1\u202f500\u202f000" in page
    assert "4\u202f500\u202f000" in page  # the voted total
    assert response.context["totals"].forecast == 4_150_000
    assert len(response.context["proposals"]) == 4
    assert ("Créer le projet de DM1" in page) is (who == "chef")
    assert ("Demander ce virement" in page) is (who == "chef")
    assert "aucune prévision" in page  # F-C stands in at its committed amount


@pytest.mark.parametrize("who", ["acheteur", "comptable", "sans_role"])
def test_other_roles_are_refused_the_variance_page(request, client_as, lines, who):
    assert client_as(request.getfixturevalue(who)).get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, lines):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "1999"}, "L’exercice « 1999 » n’existe pas."),
        ({"year": "abc"}, "L’exercice « abc » n’existe pas."),
        ({"year": "2026", "month": "0"}, "Le mois « 0 » n’est pas valide"),
        ({"year": "2026", "month": "13"}, "Le mois « 13 » n’est pas valide"),
        ({"year": "2026", "month": "mars"}, "Le mois « mars » n’est pas valide"),
    ],
)
def test_bad_parameters_get_a_french_message(client_as, chef, lines, params, message):
    response = client_as(chef).get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_draft_dm_button_makes_it_once(client_as, chef, lines):
    client = client_as(chef)
    data = {"year": "2026", "month": "11", "form_token": "jeton-dm-1"}
    first = client.post(DRAFT_URL, data)
    dm1 = BudgetRevision.objects.get(kind="DM1")
    assert first.status_code == 302 and first["Location"] == dm1.get_absolute_url()
    again = client.post(DRAFT_URL, data)
    assert again["Location"] == dm1.get_absolute_url()
    assert RevisionItem.objects.filter(revision=dm1).count() == 5


@pytest.mark.parametrize("who", ["directeur", "controleur", "acheteur"])
def test_the_draft_dm_button_is_refused_to_other_roles(request, client_as, lines, who):
    response = client_as(request.getfixturevalue(who)).post(DRAFT_URL, {"year": "2026"})
    assert response.status_code == 403
    assert not BudgetRevision.objects.filter(kind="DM1").exists()


def test_the_draft_dm_refuses_get(client_as, chef, lines):
    assert client_as(chef).get(DRAFT_URL, {"year": "2026"}).status_code == 405
    assert client_as(chef).get(TRANSFER_URL).status_code == 405
    assert not BudgetRevision.objects.filter(kind="DM1").exists()


def test_a_refused_draft_dm_says_why_in_french(client_as, chef, lines, year):
    fund({lines["F-B"]: 10_000}, kind="DM1")
    fund({lines["F-B"]: 10_000}, kind="DM2")
    response = client_as(chef).post(DRAFT_URL, {"year": "2026"}, follow=True)
    assert "La DM2 2026 est votée" in response.content.decode()


def test_a_bad_year_on_the_draft_dm_changes_nothing(client_as, chef, lines):
    response = client_as(chef).post(DRAFT_URL, {"year": "2031", "month": "13"}, follow=True)
    page = response.content.decode()
    assert "L’exercice « 2031 » n’existe pas." in page
    assert not BudgetRevision.objects.filter(kind="DM1").exists()


def test_the_transfer_button_requests_the_proposed_transfer(client_as, chef, lines):
    response = client_as(chef).post(
        TRANSFER_URL,
        {"year": "2026", "source": lines["F-B"].pk, "target": lines["F-A"].pk, "form_token": "t1"},
    )
    transfer = Transfer.objects.get()
    assert response["Location"] == transfer.get_absolute_url()
    assert transfer.amount == 150_000


def test_the_transfer_button_refuses_other_roles_and_bad_input(client_as, chef, directeur, lines):
    data = {"year": "2026", "source": lines["F-B"].pk, "target": lines["F-A"].pk}
    assert client_as(directeur).post(TRANSFER_URL, data).status_code == 403
    response = client_as(chef).post(
        TRANSFER_URL, {"year": "2026", "source": "x", "target": ""}, follow=True
    )
    assert "Choisissez une proposition" in response.content.decode()
    assert not Transfer.objects.exists()


def test_the_variance_page_exports_its_rows_to_xlsx_with_the_same_figures(lines, chef, client_as):
    response = client_as(chef).get(URL, {"year": 2026, "export": "xlsx"})
    assert response.status_code == 200
    assert 'filename="pilotage-ecarts-2026' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [cell.value for cell in sheet[1]][:4] == ["Code", "Libellé", "Section", "Voté"]
    by_code = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    # Voted, committed, liquidated, forecast, gap, as on the page.
    assert by_code["F-A"][3:7] == (1_000_000, 900_000, 400_000, 1_500_000)
    assert by_code["F-A"][7] == 500_000
    assert by_code["F-C"][6] == 100_000 and by_code["F-C"][9].startswith("non")
    assert by_code["Total"][3] == 4_500_000


def test_the_variance_export_is_refused_to_the_roles_that_cannot_read_it(
    lines, comptable, client_as
):
    response = client_as(comptable).get(URL, {"year": 2026, "export": "xlsx"})
    assert response.status_code == 403

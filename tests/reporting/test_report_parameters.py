"""The reports' parameters: validated, with defaults, refused with French messages."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from reporting.models import Report
from reporting.reports import (
    BuiltFile,
    builder_for,
    clean_parameters,
    kind_parameters,
)
from tests.factories import ChapterFactory, FiscalYearFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return FiscalYearFactory(year=2026, state="open")


def errors_of(kind, raw):
    with pytest.raises(ValidationError) as caught:
        clean_parameters(kind, raw)
    return caught.value.message_dict


def test_each_kind_lists_its_parameters_for_the_request_form():
    assert kind_parameters(Report.Kind.DISCO) == ["year", "section", "chapter"]
    assert kind_parameters(Report.Kind.MONTHLY_EXECUTION) == ["year", "month"]
    assert kind_parameters(Report.Kind.VARIANCE) == ["year", "month"]
    assert kind_parameters(Report.Kind.PROVISIONS) == ["year"]
    assert kind_parameters("nope") == []


def test_form_data_are_cleaned_into_json_values(year):
    ChapterFactory(code="011", section="F")
    raw = {"year": " 2026 ", "month": "3", "section": "f", "chapter": "011", "csrf": "x"}
    assert clean_parameters("monthly_execution", raw) == {"year": 2026, "month": 3}
    assert clean_parameters("disco", raw) == {"year": 2026, "section": "F", "chapter": "011"}
    assert clean_parameters("provisions", raw) == {"year": 2026}
    assert clean_parameters("variance", {"year": 2026}) == {"year": 2026}


def noumea(*args):
    return time_machine.travel(datetime(*args, tzinfo=ZoneInfo("Pacific/Noumea")), tick=False)


def test_the_monthly_report_defaults_to_the_last_complete_month(year):
    FiscalYearFactory(year=2025, state="closed")
    with noumea(2026, 12, 8, 10, 0):
        assert clean_parameters("monthly_execution", {}) == {"year": 2026, "month": 11}
        assert clean_parameters("monthly_execution", {"year": "2026"}) == {
            "year": 2026,
            "month": 11,
        }
        # A past year: its December.
        assert clean_parameters("monthly_execution", {"year": 2025}) == {
            "year": 2025,
            "month": 12,
        }
    # In January, the last complete month is last year's December.
    FiscalYearFactory(year=2027, state="preparation")
    with noumea(2027, 1, 15, 10, 0):
        assert clean_parameters("monthly_execution", {}) == {"year": 2026, "month": 12}
        # The new year has no complete month yet: its January, under way.
        assert clean_parameters("monthly_execution", {"year": 2027}) == {
            "year": 2027,
            "month": 1,
        }


def test_the_month_under_way_may_be_asked_for_but_not_a_month_to_come(year):
    FiscalYearFactory(year=2027, state="preparation")
    with noumea(2026, 12, 8, 10, 0):
        assert clean_parameters("monthly_execution", {"year": 2026, "month": 12}) == {
            "year": 2026,
            "month": 12,
        }
        assert errors_of("monthly_execution", {"year": 2027, "month": "1"}) == {
            "month": [
                "Le mois de janvier 2027 n’a pas encore commencé : choisissez un mois jusqu’à "
                "décembre 2026 (le mois en cours)."
            ]
        }
        assert "month" in errors_of("monthly_execution", {"year": 2027})
    # What the beat asks on the 1st at 06:00 in Nouméa (still the 31st in UTC) is accepted.
    with noumea(2027, 1, 1, 6, 0):
        assert clean_parameters("monthly_execution", {"year": 2026, "month": 12})["month"] == 12


def test_an_unknown_kind_is_refused_in_french(year):
    assert errors_of("bilan", {}) == {"kind": ["Type de rapport inconnu : « bilan »."]}


def test_an_unknown_fiscal_year_is_refused_in_french(year):
    assert errors_of("disco", {"year": "2031"}) == {"year": ["L’exercice 2031 n’existe pas."]}
    assert errors_of("disco", {"year": "deux mille"}) == {
        "year": ["L’année n’est pas un nombre : « deux mille »."]
    }


def test_no_year_at_all_is_refused_in_french(db):
    assert errors_of("disco", {}) == {"year": ["Aucun exercice n’existe encore."]}


@pytest.mark.parametrize("month", ["0", "13", -1, 12.5])
def test_a_month_out_of_range_is_refused_in_french(year, month):
    assert errors_of("monthly_execution", {"year": 2026, "month": month})["month"] in (
        ["Le mois doit être compris entre 1 et 12."],
        [f"Le mois n’est pas un nombre : « {month} »."],
    )


def test_a_month_that_is_no_number_is_refused_in_french(year):
    assert errors_of("monthly_execution", {"month": "mars"}) == {
        "month": ["Le mois n’est pas un nombre : « mars »."]
    }


def test_unknown_section_and_chapter_are_refused_in_french(year):
    ChapterFactory(code="21", label="Immobilisations", section="I")
    assert errors_of("disco", {"section": "X", "chapter": "999"}) == {
        "section": ["Section inconnue : « X »."],
        "chapter": ["Chapitre inconnu : « 999 »."],
    }
    assert errors_of("disco", {"section": "F", "chapter": "21"}) == {
        "chapter": ["Le chapitre 21 n’appartient pas à cette section."]
    }


def test_every_kind_and_format_has_a_builder():
    for kind in Report.Kind.values:
        for fmt in Report.Format.values:
            assert callable(builder_for(kind, fmt))


def test_an_unknown_format_has_no_builder():
    with pytest.raises(ValidationError) as caught:
        builder_for("disco", "docx")
    assert caught.value.messages == ["Format de rapport inconnu : « docx »."]
    assert BuiltFile.__dataclass_fields__.keys() == {"filename", "path", "content_type"}

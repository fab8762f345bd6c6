"""French dates (31/12/2026), numbers and the Pacific/Noumea time zone."""

import datetime as dt

from django.conf import settings
from django.template import Context, Template
from django.utils import formats, translation


def test_the_interface_is_french_in_noumea_by_default():
    assert settings.LANGUAGE_CODE == "fr"
    assert settings.TIME_ZONE == "Pacific/Noumea"
    assert ("en", "English") in settings.LANGUAGES


def test_a_date_reads_day_month_year_with_slashes():
    with translation.override("fr"):
        assert formats.date_format(dt.date(2026, 12, 31)) == "31/12/2026"
        assert formats.date_format(dt.date(2026, 1, 5), "SHORT_DATE_FORMAT") == "05/01/2026"


def test_a_date_in_a_template_reads_the_french_way():
    with translation.override("fr"):
        rendered = Template("{{ day }}").render(Context({"day": dt.date(2026, 12, 31)}))
    assert rendered == "31/12/2026"


def test_a_utc_time_is_shown_in_noumea_time():
    # 13:30 UTC on 31 December is 00:30 on 1 January in Nouméa (UTC+11).
    moment = dt.datetime(2026, 12, 31, 13, 30, tzinfo=dt.UTC)
    with translation.override("fr"):
        rendered = Template("{{ moment }}").render(Context({"moment": moment}))
    assert rendered == "01/01/2027 00:30"


def test_french_date_input_is_understood():
    with translation.override("fr"):
        assert "%d/%m/%Y" in formats.get_format("DATE_INPUT_FORMATS")


def test_numbers_group_thousands_and_use_a_decimal_comma():
    with translation.override("fr"):
        assert formats.number_format(1234567) == "1\u202f234\u202f567"
        assert formats.number_format(1234.5, decimal_pos=1) == "1\u202f234,5"


def test_month_names_are_french():
    with translation.override("fr"):
        assert formats.date_format(dt.date(2026, 8, 1), "F Y") == "août 2026"

"""In a real browser: `directeur` logs in, lands on the dashboard with its charts drawn
(a screenshot is kept in artifacts/browser/), clicks the bar of a section and lands on
the DISCO list filtered on that section, whose totals are the bar's figures."""

import re

import pytest
from django.urls import reverse

from dsi_finance.money import format_xpf
from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD
from tests.reporting.test_dashboard import books  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Non-blank pixels of a canvas (Chart.js draws on it; a blank canvas is all transparent).
PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
  return painted;
}"""

# Where the middle of a bar segment is, in page coordinates.
SEGMENT = """([id, dataset, index]) => {
  const canvas = document.getElementById(id);
  const bar = Chart.getChart(canvas).getDatasetMeta(dataset).data[index];
  const box = canvas.getBoundingClientRect();
  return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
}"""


def test_the_director_sees_the_charts_and_clicks_a_section_through_to_disco(
    page,
    directeur,
    books,  # noqa: F811
):
    page.goto(reverse("home"))
    page.get_by_label("Nom d'utilisateur").fill("directeur")
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")

    # The home page of the director is the dashboard, charts drawn by Chart.js.
    assert page.get_by_role("heading", name="Tableau de bord").first.is_visible()
    for chart in ("chart-months", "chart-sections", "chart-chapters"):
        page.wait_for_function(f"() => ({PAINTED})('{chart}') > 500")
        assert page.evaluate(
            f"() => Chart.getChart(document.getElementById('{chart}')) !== undefined"
        )
    assert page.evaluate("() => Object.keys(window.dashboardCharts).sort()") == [
        "chapters",
        "months",
        "sections",
    ]
    assert page.get_by_test_id("value-opened").inner_text() == format_xpf(3_500_000)
    assert page.get_by_test_id("risk-row").count() == 2
    page.wait_for_timeout(1200)  # the end of Chart.js' animations, for the picture
    screenshot(page, "directeur-dashboard")

    # The investment bar (the second), its liquidated segment: DISCO filtered on section I.
    page.locator("#chart-sections").scroll_into_view_if_needed()
    point = page.evaluate(SEGMENT, ["chart-sections", 0, 1])
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(re.compile(r".*/budget/disponible/\?year=2026&section=I$"))
    assert page.locator("#id_section").input_value() == "I"
    assert page.locator("#id_year").input_value() == "2026"
    footer = page.locator("tfoot").inner_text()
    for amount in (
        2_000_000,
        500_000,
        100_000,
        1_500_000,
    ):  # opened, committed, liquidated, available
        assert format_xpf(amount) in footer
    screenshot(page, "directeur-dashboard-to-disco")
    assert page.errors == []

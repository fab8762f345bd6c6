"""In a real browser: `directeur` logs in, lands on the dashboard with its charts drawn
(a screenshot is kept in artifacts/browser/), clicks the bar of a section and lands on
the DISCO list filtered on that section, whose totals are the bar's figures."""

import re

import pytest
from django.urls import reverse

from dsi_finance.money import format_francs, format_xpf
from tests.browser.conftest import screenshot
from tests.factories import TEST_PASSWORD
from tests.reporting.dashboard_books import books  # noqa: F401 (fixture)

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
    page.get_by_label("Nom d’utilisateur").fill("directeur")
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
    ):  # opened, committed, liquidated, available (the currency is in the headers)
        assert format_francs(amount) in footer
    screenshot(page, "directeur-dashboard-to-disco")
    assert page.errors == []


def test_the_chart_axes_read_millions_and_the_tooltips_whole_amounts(
    page,
    directeur,
    books,  # noqa: F811
):
    page.goto(reverse("login"))
    page.get_by_label("Nom d’utilisateur").fill("directeur")
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")
    page.goto(reverse("reporting:dashboard"))
    page.wait_for_function("() => window.dashboardCharts && window.dashboardCharts.chapters")
    ticks = page.evaluate(
        """() => {
          const c = window.dashboardCharts;
          return {
            months: c.months.scales.y.ticks.map((t) => t.label),
            sections: c.sections.scales.y.ticks.map((t) => t.label),
            chapters: c.chapters.scales.x.ticks.map((t) => t.label),
          };
        }"""
    )
    for axis, labels in ticks.items():
        assert len(labels) > 2, axis
        assert all(label == "0" or label.endswith("\u00a0M") for label in labels), (axis, labels)
    # The opened credits are 3 500 000: the monthly axis reaches "3,5 M" at least, in steps
    # (Chart.js chooses the steps from the chart's height).
    millions = [float(label.removesuffix("\u00a0M").replace(",", ".")) for label in ticks["months"]]
    assert millions == sorted(millions) and millions[-1] >= 3.5, ticks["months"]
    tooltip = page.evaluate(
        """() => window.dashboardCharts.chapters.options.plugins.tooltip.callbacks.label(
             {dataset: {label: "Liquidé"}, raw: 1234567})"""
    )
    assert tooltip.replace("\u202f", " ").replace("\u00a0", " ") == "Liquidé : 1 234 567 F CFP"
    # Colour by meaning: each chapter's liquidated segment takes the colour of its pace.
    colours = page.evaluate(
        """() => {
          const data = JSON.parse(document.getElementById("dashboard-data").textContent);
          const chart = window.dashboardCharts.chapters;
          return data.chapters.pace.map((pace, i) =>
            [pace, chart.data.datasets[0].backgroundColor[i]]);
        }"""
    )
    expected = {"ahead": "#e0a800", "behind": "#0aa2c0", "on_track": "#0d6efd", None: "#0d6efd"}
    assert colours and all(colour == expected[pace] for pace, colour in colours)
    assert page.errors == []

// The director's dashboard (templates/reporting/dashboard.html): draws its charts from the
// JSON the page carries (json_script "dashboard-data"; no inline script: CSP). Clicking a
// point or a bar segment opens the list behind it (its URL is in the data).
(() => {
  const francs = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 });
  const xpf = (value) => (value === null || value === undefined ? "—" : `${francs.format(value)} F CFP`);
  // Axes in millions ("12 M", "1,5 M"): full amounts overlap; tooltips keep them whole.
  const millionsFormat = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  const millions = (value) => (value === 0 ? "0" : `${millionsFormat.format(value / 1e6)}\u00a0M`);
  const COLOURS = {
    liquidated: "#0d6efd",
    to_liquidate: "#fd7e14",
    available: "#20c997",
    linear: "#6c757d",
    last_year: "#adb5bd",
    available_neutral: "#ced4da",
  };
  // Colour by meaning (reporting.selectors.dashboard.PACE_TONES): spending ahead of the
  // linear path warns, behind informs, close to it stays the figure's own colour.
  const PACE_COLOURS = { ahead: "#e0a800", behind: "#0aa2c0" };
  const paceColour = (pace, fallback) => PACE_COLOURS[pace] || fallback;

  // Navigate to the URL of the element clicked (urls[index], or urlsByDataset[dataset][index]).
  function linkTo(urlsOf) {
    return (event, elements) => {
      if (!elements.length) return;
      const { datasetIndex, index } = elements[0];
      const url = urlsOf(datasetIndex, index);
      if (url) window.location.assign(url);
    };
  }

  function hoverPointer(event, elements) {
    const target = event.native && event.native.target;
    if (target) target.style.cursor = elements.length ? "pointer" : "default";
  }

  function monthsChart(canvas, data, labels) {
    const datasets = [
      {
        label: labels.liquidated,
        data: data.liquidated,
        borderColor: COLOURS.liquidated,
        backgroundColor: COLOURS.liquidated,
        pointBackgroundColor: data.liquidated.map((_v, i) => paceColour(data.pace[i], COLOURS.liquidated)),
        pointBorderColor: data.liquidated.map((_v, i) => paceColour(data.pace[i], COLOURS.liquidated)),
        pointRadius: 4,
        tension: 0.2,
        urls: data.urls,
      },
      {
        label: labels.linear,
        data: data.linear,
        borderColor: COLOURS.linear,
        backgroundColor: COLOURS.linear,
        borderDash: [6, 4],
        pointRadius: 0,
        urls: [],
      },
    ];
    if (labels.last_year) {
      datasets.push({
        label: labels.last_year,
        data: data.last_year,
        borderColor: COLOURS.last_year,
        backgroundColor: COLOURS.last_year,
        tension: 0.2,
        urls: data.last_year_urls,
      });
    }
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: true },
        onClick: linkTo((dataset, index) => datasets[dataset].urls[index]),
        onHover: hoverPointer,
        scales: { y: { beginAtZero: true, ticks: { callback: (value) => millions(value) } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label} : ${xpf(item.raw)}`,
              footer: (items) => {
                const pace = items[0].datasetIndex === 0 && data.pace[items[0].dataIndex];
                return pace ? labels.pace[pace] : "";
              },
            },
          },
        },
      },
    });
  }

  function barsChart(canvas, data, labels, horizontal) {
    const segment = (key, colour) => ({
      label: labels[`bar_${key}`],
      data: data[key],
      backgroundColor: colour || COLOURS[key],
      stack: "figures",
    });
    // The liquidated segment takes its bar's pace colour; the available amount is neutral
    // (what is left is neither good nor bad news: the pace says which).
    const liquidatedColours = data.pace.map((pace) => paceColour(pace, COLOURS.liquidated));
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          segment("liquidated", liquidatedColours),
          segment("to_liquidate"),
          segment("available", COLOURS.available_neutral),
        ],
      },
      options: {
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        onClick: linkTo((_dataset, index) => data.urls[index]),
        onHover: hoverPointer,
        scales: {
          x: { stacked: true, ticks: horizontal ? { callback: (value) => millions(value) } : {} },
          y: { stacked: true, ticks: horizontal ? {} : { callback: (value) => millions(value) } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label} : ${xpf(item.raw)}`,
              footer: (items) => {
                const i = items[0].dataIndex;
                const lines = [
                  `${labels.committed} : ${xpf(data.committed[i])}`,
                  `${labels.opened} : ${xpf(data.opened[i])}`,
                ];
                if (data.pace[i]) lines.push(labels.pace[data.pace[i]]);
                return lines;
              },
            },
          },
        },
      },
    });
  }

  function draw() {
    const source = document.getElementById("dashboard-data");
    if (!source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    const charts = {};
    const months = document.getElementById("chart-months");
    if (months) charts.months = monthsChart(months, data.months, data.labels);
    const sections = document.getElementById("chart-sections");
    if (sections) charts.sections = barsChart(sections, data.sections, data.labels, false);
    const chapters = document.getElementById("chart-chapters");
    if (chapters) charts.chapters = barsChart(chapters, data.chapters, data.labels, true);
    // For the browser tests and the curious: the Chart.js instances by name.
    window.dashboardCharts = charts;
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
    draw();
  });
})();

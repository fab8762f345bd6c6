"""Reporting: the director's dashboard, the XLSX export of a million invoices, and the
monthly execution report as PDF, at the scale of the earlier benchmarks. Prints a JSON
summary.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsi_bench .venv/bin/python benchmarks/run.py reporting
    .venv/bin/python benchmarks/run.py --scale 0.01 reporting   # a quick check

PostgreSQL only (bulk SQL); on SQLite it says so and stops.

The dataset is the procurement benchmark's, built by its own builders (bench_budgets:
10 000 lines and 1 000 000 ledger entries in the open year; bench_procurement: ten
years, 2 000 suppliers, 200 000 commitments, about 1 000 000 invoices and 5 000 000
invoice lines; x the scale), then two steps of this benchmark:
- the ledger entries get dates. Both builders write every entry with `created_at =
  now()`, so all the ledger sits on one day and a monthly aggregation would see one
  month. Each line's first entry (its opening) is dated 2 January of its year; a budgets
  line's other entries are spread over the year so far in their own order (entry j of
  n falls in the j-th of n - 1 equal slices, at a place drawn from its id); a procurement
  line's single commit falls in the first 30 % of the year, its liquidation between 30
  and 95 %, its release in the last 5 %. One UPDATE of the bench's own rows: the
  ledger's append-only trigger is disabled for that transaction only
  (`session_replication_role = replica`). Amounts, available_after and the order by id
  are untouched, so check_ledger still holds.
- a fiscal year of its own for the monthly report: the year before the ten, closed,
  with 500 budget lines (cost centres RPTnn) and, per line, an opening, a commitment
  each month and a liquidation each month but the last two, in bulk SQL; cached totals
  equal to that ledger.

Measured:
1. the dashboard (reporting:dashboard) and /api/v1/dashboard/ as the director, through
   Django's test client: p50 / p95 server time over BENCH_RUNS (40) runs after a
   warm-up, the query count and the slowest query with its plan (EXPLAIN ANALYZE);
   the selector alone for reference. Target: p95 < 300 ms.
2. the XLSX export of every invoice (about 1 000 000 rows at scale 1): through the
   invoice list view with the export parameter (all years; the streamed response read
   to the end and dropped), and through the writer on the invoice list's queryset.
   Each in a fresh process (spawned, so nothing of this one's memory counts): rows per
   second, and the peak memory growth, i.e. the highest resident size sampled every
   5 ms during the export less the resident size just before it (after a warm-up
   export of a few rows). Targets: >= 10 000 rows/s, growth < 100 MB.
3. the monthly execution report of the 500-line year as PDF (reporting.reports
   builder_for("monthly_execution", "pdf")), in a fresh process: seconds (the first
   build, then a second one in the same process, as a busy worker would), and the peak
   resident size of the whole process (sampled the same way). Targets: < 15 s and
   < 600 MB.
ru_maxrss is reported too but is no measure here: Linux carries the spawning parent's
high-water mark across fork and exec, so a child starts with the parent's.
"""

# The bulk SQL below is built from integers, dates and fixed words only, never from input.
# ruff: noqa: S608

import json
import math
import multiprocessing
import os
import resource
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path

from harness import measure

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
REPORT_LINES = 500  # the monthly PDF's lines, whatever the scale
REPORT_MONTH = 12
DASHBOARD_TARGET_P95_MS = 300
EXPORT_TARGET_ROWS_PER_S = 10_000
EXPORT_TARGET_GROWTH_MB = 100
PDF_TARGET_S = 15
PDF_TARGET_MB = 600
SLOW_QUERY_MS = 20
CHILD_TIMEOUT_S = 1800
HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------
# The dataset


def spread_ledger_dates(today) -> dict:
    """Date every ledger entry within its line's fiscal year (see the module's docstring)."""
    from bench_procurement import _u
    from django.db import connection, transaction

    started = time.perf_counter()
    start = "make_date(year, 1, 3) + time '07:00'"
    # Yesterday at the latest in the open year: nothing in the future, whatever the hour.
    days = f"least(make_date(year, 12, 31), DATE '{today}' - 1) - make_date(year, 1, 3)"
    u = _u("id", 81)
    statements = [
        "SET LOCAL session_replication_role = replica",
        "SET LOCAL work_mem = '256MB'",
        f"""UPDATE budgets_ledgerentry e SET created_at = CASE
                WHEN p.f IS NULL THEN (make_date(p.year, 1, 2) + time '08:00') AT TIME ZONE 'Pacific/Noumea'
                ELSE ({start.replace("year", "p.year")}) AT TIME ZONE 'Pacific/Noumea'
                     + p.f * (p.days * interval '1 day' + interval '10 hours') END
            FROM (
                SELECT id, year, {days} AS days,
                    CASE WHEN j = 0 THEN NULL
                         WHEN n <= 4 THEN CASE kind
                             WHEN 'commit' THEN 0.3 * {u}
                             WHEN 'liquidate' THEN 0.3 + 0.65 * {u}
                             ELSE 0.95 + 0.05 * {u} END
                         ELSE (j - 1 + {u}) / (n - 1) END AS f
                FROM (
                    SELECT e.id, e.kind, fy.year,
                        row_number() OVER (PARTITION BY e.budget_line_id ORDER BY e.id) - 1 AS j,
                        count(*) OVER (PARTITION BY e.budget_line_id) AS n
                    FROM budgets_ledgerentry e
                    JOIN budgets_budgetline l ON l.id = e.budget_line_id
                    JOIN budgets_fiscalyear fy ON fy.id = l.fiscal_year_id
                ) AS numbered
            ) AS p
            WHERE p.id = e.id""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        dated = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE budgets_ledgerentry")
        cursor.execute(
            "SELECT to_char(created_at AT TIME ZONE 'Pacific/Noumea', 'YYYY-MM') AS month, count(*) "
            "FROM budgets_ledgerentry e JOIN budgets_budgetline l ON l.id = e.budget_line_id "
            "JOIN budgets_fiscalyear fy ON fy.id = l.fiscal_year_id AND fy.year = %s "
            "GROUP BY 1 ORDER BY 1",
            [today.year],
        )
        by_month = dict(cursor.fetchall())
    return {
        "entries_dated": dated,
        "open_year_entries_by_month": by_month,
        "seconds": round(time.perf_counter() - started, 1),
    }


def build_report_year(oldest_year: int, users) -> dict:
    """The fiscal year before `oldest_year`, closed, with REPORT_LINES lines and their ledger."""
    from bench_budgets import _code
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from budgets.models import BudgetLine, CostCentre, FiscalYear, NatureAccount, Project

    started = time.perf_counter()
    accounts = list(NatureAccount.objects.select_related("chapter").order_by("number"))
    projects = [None, *Project.objects.order_by("code")]
    needed = math.ceil(REPORT_LINES / (len(accounts) * len(projects)))
    centres = [
        CostCentre.objects.get_or_create(
            code=f"RPT{n:02d}", defaults={"label": f"Rapports {n:02d}"}
        )[0]
        for n in range(1, needed + 1)
    ]
    axes = [(a, c, p) for c in centres for p in projects for a in accounts][:REPORT_LINES]
    # Twelve commitments and ten liquidations of `c` a line; 24 c opened.
    unit = "(1000 + (l.id %% 89) * 150)"
    at = "(make_date(fy.year, m, {day}) + time '10:00') AT TIME ZONE 'Pacific/Noumea'"
    with transaction.atomic():
        fiscal_year = FiscalYear.objects.create(year=oldest_year - 1, state=FiscalYear.State.CLOSED)
        BudgetLine.objects.bulk_create(
            BudgetLine(
                fiscal_year=fiscal_year,
                code=_code(account, centre, project),
                label=f"Rapport {n:03d} : {account.label[:60]} ({centre.code})",
                section=account.chapter.section,
                nature_account=account,
                cost_centre=centre,
                project=project,
            )
            for n, (account, centre, project) in enumerate(axes)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO budgets_ledgerentry (budget_line_id, kind, amount, available_after,
                        document_type_id, document_id, user_id, created_at, reason)
                    SELECT l.id, e.kind, e.amount, e.available_after, %s, fy.id, %s, e.at, ''
                    FROM budgets_budgetline l JOIN budgets_fiscalyear fy ON fy.id = l.fiscal_year_id,
                    LATERAL (
                        SELECT 0 AS m, 0 AS step, 'open' AS kind, 24 * {unit} AS amount,
                            24 * {unit} AS available_after,
                            (make_date(fy.year, 1, 2) + time '08:00') AT TIME ZONE 'Pacific/Noumea' AS at
                        UNION ALL
                        SELECT m, 1, 'commit', {unit}, (24 - m) * {unit}, {at.format(day=5)}
                        FROM generate_series(1, 12) AS m
                        UNION ALL
                        SELECT m, 2, 'liquidate', {unit}, (24 - m) * {unit}, {at.format(day=20)}
                        FROM generate_series(1, 10) AS m
                    ) AS e
                    WHERE l.fiscal_year_id = %s
                    ORDER BY l.id, e.m, e.step""",
                [
                    ContentType.objects.get_for_model(FiscalYear).pk,
                    users["chef"].pk,
                    fiscal_year.pk,
                ],
            )
            cursor.execute(
                f"UPDATE budgets_budgetline l SET opened = 24 * {unit}, committed = 12 * {unit}, "
                f"liquidated = 10 * {unit} WHERE l.fiscal_year_id = %s",
                [fiscal_year.pk],
            )
    return {
        "year": fiscal_year.year,
        "lines": BudgetLine.objects.filter(fiscal_year=fiscal_year).count(),
        "month": REPORT_MONTH,
        "seconds": round(time.perf_counter() - started, 1),
    }


def build_dataset() -> dict:
    """The procurement benchmark's dataset, dated ledger entries, and the report's year."""
    from bench_budgets import _commit_lines, _setup, build_ledger
    from bench_procurement import YEARS, _users, build_procurement
    from django.utils import timezone

    summary = {}
    chef, directeur, year, axes = _setup()
    _many, _hot, revision = _commit_lines(chef, directeur, year, axes)
    summary["budgets_dataset"] = build_ledger(chef, year, axes, revision)
    users = _users()
    summary["procurement_dataset"] = build_procurement(year, users)
    summary["ledger_dates"] = spread_ledger_dates(timezone.localdate())
    summary["report_year"] = build_report_year(year.year - YEARS + 1, users)
    return summary


# ---------------------------------------------------------------------------
# 1. The dashboard


def bench_dashboard(directeur) -> dict:
    from bench_budgets import _slowest_query
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    client = Client()
    client.force_login(directeur)
    summary = {"as": directeur.username, "runs": RUNS}
    try:
        from reporting.selectors.dashboard import dashboard
    except ImportError as error:
        summary["selector"] = {"missing": str(error)}
    else:
        timing = measure("dashboard()", lambda: dashboard(actor=directeur), runs=RUNS, warmup=3)
        summary["selector"] = {"p50_ms": round(timing.p50_ms, 1), "p95_ms": round(timing.p95_ms, 1)}
    pages = {"page": ("reporting:dashboard", None), "api": ("api:dashboard", "/api/v1/dashboard/")}
    for name, (url_name, fallback) in pages.items():
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = fallback
        if url is None or client.get(url).status_code == 404:
            summary[name] = {"missing": f"no {url_name} yet"}
            continue
        response = client.get(url)
        if response.status_code != 200:
            summary[name] = {"url": url, "error": f"HTTP {response.status_code}"}
            continue
        cpu_ms = []

        def get(url=url, cpu_ms=cpu_ms):
            started = time.process_time()
            client.get(url)
            cpu_ms.append((time.process_time() - started) * 1000)

        timing = measure(f"GET {url}", get, runs=RUNS, warmup=5)
        result = {
            "url": url,
            "p50_ms": round(timing.p50_ms, 1),
            "p95_ms": round(timing.p95_ms, 1),
            "python_cpu_p50_ms": round(statistics.median(cpu_ms[-RUNS:]), 1),
        }
        detail = _slowest_query(client, url, {}, {})
        result.update(detail)
        result["plan"] = detail.get("plan") if _worth_a_plan(timing, detail) else None
        if result["plan"] is None:
            result.pop("plan")
        summary[name] = result
    summary["target_p95_ms"] = DASHBOARD_TARGET_P95_MS
    return summary


def _worth_a_plan(timing, detail) -> bool:
    return timing.p95_ms > DASHBOARD_TARGET_P95_MS or detail.get("slowest_ms", 0) >= SLOW_QUERY_MS


def dashboard_queries(directeur) -> list[dict]:
    """Every query of one dashboard page view with its EXPLAIN ANALYZE time, slowest first."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(directeur)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("reporting:dashboard"))
    found = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            lines = [row[0] for row in cursor.fetchall()]
            ms = float(lines[-1].split(":")[1].split()[0])
            found.append({"ms": round(ms, 2), "sql": query["sql"][:400]})
    return sorted(found, key=lambda query: -query["ms"])


# ---------------------------------------------------------------------------
# 2. and 3. The export and the PDF, each in a fresh process


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakRss:
    """Samples the resident size every 5 ms in a thread; `peak` is the highest seen."""

    def __init__(self):
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _child(database: str, task: str, arguments: dict, results) -> None:
    """Entry point of a spawned process: Django on the benchmark's test database, then
    one measured task; puts its result (or the traceback) on `results`."""
    try:
        sys.path[:0] = [str(HERE.parent), str(HERE)]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")
        import django
        from django.conf import settings

        django.setup()
        settings.DATABASES["default"]["NAME"] = database
        results.put(TASKS[task](**arguments))
    except BaseException:
        results.put({"error": traceback.format_exc()[-3000:]})


def in_fresh_process(task: str, **arguments) -> dict:
    """Runs TASKS[task] in a spawned Python process and returns what it measured."""
    from django.db import connection

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=_child, args=(connection.settings_dict["NAME"], task, arguments, results)
    )
    process.start()
    import queue

    deadline = time.monotonic() + CHILD_TIMEOUT_S
    outcome = None
    while outcome is None:
        try:
            outcome = results.get(timeout=5)
        except queue.Empty:
            if not process.is_alive() or time.monotonic() > deadline:
                outcome = {"error": f"no result from the child process (exit {process.exitcode})"}
    process.join(timeout=60)
    if process.is_alive():
        process.kill()
    return outcome


def _memory(before_rss: int, peak: _PeakRss, maxrss_before_kb: int) -> dict:
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rss_before_mb": round(before_rss / 2**20, 1),
        "peak_rss_mb": round(peak.peak / 2**20, 1),
        "peak_growth_mb": round((peak.peak - before_rss) / 2**20, 1),
        "maxrss_mb": round(maxrss_kb / 1024, 1),
        "maxrss_growth_mb": round((maxrss_kb - maxrss_before_kb) / 1024, 1),
    }


def _task_pdf(year: int, month: int) -> dict:
    """The monthly execution report as PDF: seconds, memory, pages, size."""
    import gc

    from reporting.reports import builder_for

    build = builder_for("monthly_execution", "pdf")
    gc.collect()
    before, maxrss_before = _rss_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steps = []
    with _PeakRss() as peak:
        started = time.perf_counter()
        built = build(
            parameters={"year": year, "month": month},
            progress=lambda percent, note: steps.append((percent, note)),
        )
        seconds = time.perf_counter() - started
        # Again in the same process: what a worker that has built one report already
        # takes (WeasyPrint, fonts and templates loaded).
        started = time.perf_counter()
        again = build(parameters={"year": year, "month": month}, progress=lambda *args: None)
        seconds_again = time.perf_counter() - started
    Path(again.path).unlink(missing_ok=True)
    path = Path(built.path)
    result = {
        "seconds": round(seconds, 2),
        "seconds_second_build": round(seconds_again, 2),
        **_memory(before, peak, maxrss_before),
        "bytes": path.stat().st_size,
        "pages": _pdf_pages(path),
        "progress_calls": len(steps),
    }
    path.unlink(missing_ok=True)
    return result


def _pdf_pages(path: Path) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(path).pages)


def bench_pdf(report_year: dict) -> dict:
    outcome = in_fresh_process("pdf", year=report_year["year"], month=report_year["month"])
    return {
        "year": report_year["year"],
        "month": report_year["month"],
        "lines": report_year["lines"],
        **outcome,
        "target_seconds": PDF_TARGET_S,
        "target_peak_mb": PDF_TARGET_MB,
    }


def _drain(response) -> int:
    """Reads a response to the end (streamed or not) and drops it: the bytes it held."""
    if getattr(response, "streaming", False):
        size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
        response.close()
        return size
    return len(response.content)


def _task_export_view(username: str, url: str, params: dict, warmup_params: dict) -> dict:
    """The invoice list's XLSX export through the view, its streamed body read and dropped."""
    import gc

    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    warm = client.get(url, warmup_params)
    if warm.status_code != 200:
        return {"error": f"HTTP {warm.status_code} on the warm-up export"}
    _drain(warm)
    gc.collect()
    before, maxrss_before = _rss_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with _PeakRss() as peak:
        started = time.perf_counter()
        response = client.get(url, params)
        first_byte = None
        size = 0
        if getattr(response, "streaming", False):
            for chunk in response.streaming_content:
                first_byte = first_byte or time.perf_counter() - started
                size += len(chunk)
            response.close()
        else:
            size = len(response.content)
        seconds = time.perf_counter() - started
    return {
        "status": response.status_code,
        "content_type": response.get("Content-Type", ""),
        "streaming": getattr(response, "streaming", False),
        "seconds": round(seconds, 2),
        "seconds_to_first_byte": round(first_byte, 2) if first_byte else None,
        "bytes": size,
        **_memory(before, peak, maxrss_before),
    }


def _task_export_writer(username: str, warmup_rows: int) -> dict:
    """The invoice list's queryset (every year, the list's order) through the export
    writer, into a temporary file as the view does."""
    import gc
    import tempfile

    from django.contrib.auth import get_user_model

    from dsi_finance.exports import rows_from_queryset, write_xlsx
    from procurement.selectors.invoices import invoice_list
    from procurement.views.invoices import InvoiceListView

    columns = getattr(InvoiceListView, "export_columns", None)
    if not columns:
        return {"missing": "InvoiceListView has no export_columns yet"}
    user = get_user_model().objects.get(username=username)
    queryset = invoice_list(actor=user, tab="all")
    with tempfile.TemporaryFile() as output:
        write_xlsx(rows_from_queryset(queryset[:warmup_rows], columns), columns, output)
    gc.collect()
    before, maxrss_before = _rss_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryFile() as output, _PeakRss() as peak:
        started = time.perf_counter()
        written = write_xlsx(rows_from_queryset(queryset, columns), columns, output)
        seconds = time.perf_counter() - started
        size = output.tell()
    return {
        "rows_written": written,
        "columns": len(columns),
        "seconds": round(seconds, 2),
        "rows_per_second": round(written / seconds),
        "bytes": size,
        **_memory(before, peak, maxrss_before),
    }


EXPORT_QUERY = {"export": "xlsx"}  # the list pages' export parameter (dsi_finance.exports)


def bench_export(comptable) -> dict:
    """Every invoice of every year to XLSX, through the list view and through the writer."""
    from bench_procurement import _suppliers
    from django.urls import reverse

    from procurement.models import Invoice

    rows = Invoice.objects.count()
    smallest = _suppliers()["smallest"]
    summary = {"rows": rows, "as": comptable.username}
    url = reverse("procurement:invoice-list")
    params = {"year": "", **EXPORT_QUERY}
    view = in_fresh_process(
        "export_view",
        username=comptable.username,
        url=url,
        params=params,
        warmup_params={**params, "supplier": smallest["ridet"]},
    )
    if "seconds" in view and view.get("status") == 200:
        view["rows_per_second"] = round(rows / view["seconds"])
    summary["view"] = {"url": url, "params": params, **view}
    summary["writer"] = in_fresh_process(
        "export_writer", username=comptable.username, warmup_rows=2000
    )
    summary["target_rows_per_second"] = EXPORT_TARGET_ROWS_PER_S
    summary["target_peak_growth_mb"] = EXPORT_TARGET_GROWTH_MB
    return summary


TASKS = {"pdf": _task_pdf, "export_view": _task_export_view, "export_writer": _task_export_writer}


def _targets_met(summary: dict) -> dict:
    dashboard = summary.get("dashboard", {})
    p95s = [
        dashboard[name]["p95_ms"] for name in ("page", "api") if "p95_ms" in dashboard.get(name, {})
    ]
    exports = [
        export
        for export in summary.get("export", {}).values()
        if isinstance(export, dict) and "rows_per_second" in export
    ]
    pdf = summary.get("pdf", {})
    return {
        "dashboard_p95_under_300_ms": max(p95s) < DASHBOARD_TARGET_P95_MS if p95s else None,
        "export_at_least_10_000_rows_per_second": (
            min(export["rows_per_second"] for export in exports) >= EXPORT_TARGET_ROWS_PER_S
            if exports
            else None
        ),
        "export_peak_growth_under_100_mb": (
            max(export["peak_growth_mb"] for export in exports) < EXPORT_TARGET_GROWTH_MB
            if exports
            else None
        ),
        "pdf_under_15_s_and_600_mb": (
            pdf["seconds"] < PDF_TARGET_S and pdf["peak_rss_mb"] < PDF_TARGET_MB
            if "seconds" in pdf
            else None
        ),
    }


def measure_all(dataset: dict) -> dict:
    """The three measures on a built dataset (run() builds it; kept apart so that a
    dataset can be measured again)."""
    from django.contrib.auth import get_user_model

    users = {user.username: user for user in get_user_model().objects.all()}
    summary = {"load_average_at_start": [round(load, 2) for load in os.getloadavg()]}
    summary["dashboard"] = bench_dashboard(users["directeur"])
    summary["export"] = bench_export(users["comptable"])
    summary["pdf"] = bench_pdf(dataset["report_year"])
    summary["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    summary["targets_met"] = _targets_met(summary)
    return summary


def run():
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor != "postgresql":
        yield "skipped: needs PostgreSQL (set DATABASE_URL=postgres://...)"
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    summary = {
        "database": f"PostgreSQL {version}",
        "scale": SCALE,
        "cpus": os.cpu_count(),
    }
    started = time.perf_counter()
    summary["dataset"] = build_dataset()
    summary["dataset"]["seconds"] = round(time.perf_counter() - started, 1)
    yield f"dataset: {json.dumps(summary['dataset'], ensure_ascii=False)}"
    summary.update(measure_all(summary["dataset"]))
    yield json.dumps(summary, indent=2, ensure_ascii=False)

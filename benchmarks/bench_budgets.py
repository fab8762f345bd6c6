"""Budgets: safe commitments per second, the DISCO page and the budget-lines API at scale,
and check_ledger over a million ledger entries. Prints a JSON summary.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsi_bench .venv/bin/python benchmarks/run.py budgets
    BENCH_SCALE=0.01 ...   # a quick check: 100 lines, 10 000 entries, fewer commitments

1. Commitments: BENCH_WORKERS processes (8; each its own connection, like gunicorn
   workers) commit random amounts through budgets.services.credits_commit, on 100
   lines and on 1 hot line; next to them, the same transaction in raw psycopg (a
   guarded UPDATE of the line's cached total, the ledger INSERT, COMMIT) with as many
   workers. The ratio service / raw is the figure to watch (target >= 0.5). For reference,
   the same raw SQL sent through Django's connection shows what the ORM itself costs.
   PostgreSQL only: SQLite has no row locks to measure.
2. Pages: 10 000 lines (x BENCH_SCALE) and 1 000 000 ledger entries built with bulk SQL
   (INSERT ... SELECT over generate_series), then p50 / p95 server time of the DISCO
   page (budgets:disco, as the section head; plain, filtered, and the htmx fragment)
   and of the budget-lines API (api:budget-line-list). Target: DISCO p95 < 300 ms.
3. check_ledger over all of it: seconds (target < 30 s), and it must find no difference.

The bulk ledger is consistent by construction: each line gets one `open` entry, then
commitments of a fixed amount alternating with liquidations (every tenth a release);
each entry's available_after is the running balance in closed form, and the lines'
cached totals are set from the same closed form, never from the ledger, so that
check_ledger really checks them.
"""

import contextlib
import io
import json
import math
import multiprocessing
import os
import random
import statistics
import threading
import time
import traceback

from harness import measure

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "8"))
LINES = max(100, round(10_000 * SCALE))
ENTRIES_PER_LINE = 100  # 10 000 lines x 100 = 1 000 000 entries
COMMITS_PER_WORKER = max(20, round(250 * min(SCALE, 1) ** 0.5))
PAGE_RUNS = int(os.environ.get("BENCH_RUNS", "60"))
DISCO_TARGET_P95_MS = 300
CHECK_LEDGER_TARGET_S = 30
RATIO_TARGET = 0.5
SLOW_QUERY_MS = 20  # a query slower than this gets its plan in the summary


# ---------------------------------------------------------------------------
# Setting up: users, a fiscal year, the nomenclature, the commitment lines


def _setup():
    from django.contrib.auth import get_user_model

    from budgets import services
    from budgets.demo import ACCOUNTS, PROJECTS, seed_nomenclature
    from budgets.models import CostCentre, NatureAccount, Project
    from dsi_finance.demo import seed_demo_users

    seed_demo_users()
    User = get_user_model()
    chef, directeur = User.objects.get(username="chef"), User.objects.get(username="directeur")
    seed_nomenclature()
    # Enough cost centres for LINES distinct (account, cost centre, project) axes.
    combos_per_centre = len(ACCOUNTS) * (len(PROJECTS) + 1)
    needed = math.ceil((LINES + 101) / combos_per_centre)
    for n in range(1, max(0, needed - CostCentre.objects.count()) + 1):
        CostCentre.objects.get_or_create(
            code=f"CC{n:03d}", defaults={"label": f"Centre de coûts {n:03d}"}
        )
    accounts = list(NatureAccount.objects.select_related("chapter").order_by("number"))
    centres = list(CostCentre.objects.order_by("code"))
    projects = [None, *Project.objects.order_by("code")]
    axes = (
        (account, centre, project)
        for centre in centres
        for project in projects
        for account in accounts
    )
    year = services.fiscal_year_create(user=chef, year=2026)
    return chef, directeur, year, axes


def _code(account, centre, project) -> str:
    code = f"{account.chapter.section}-{account.number}-{centre.code}"
    return f"{code}-{project.code.removeprefix('PRJ-')}" if project else code


def _commit_lines(chef, directeur, year, axes):
    """101 lines made and funded through the services: 100 ordinary ones and a hot one."""
    from budgets import services

    lines = []
    for _n in range(101):
        account, centre, project = next(axes)
        lines.append(
            services.budget_line_create(
                user=chef,
                fiscal_year=year,
                code=_code(account, centre, project),
                label=f"Ligne d'engagements {account.number} {centre.code}",
                nature_account=account,
                cost_centre=centre,
                project=project,
            )
        )
    revision = services.revision_create(user=chef, fiscal_year=year, kind="BP")
    for line in lines:
        # Enough for every attempt: refusals are not what this measures.
        services.revision_item_set(
            user=chef, revision=revision, budget_line=line, amount=10**11 // 100
        )
    services.revision_submit(user=directeur, revision=revision)
    import datetime

    services.revision_vote(
        user=directeur,
        revision=revision,
        vote_date=datetime.date(2025, 12, 11),
        vote_reference="Délibération n° 2025-089 du CA",
    )
    services.fiscal_year_open(user=directeur, fiscal_year=year)
    return [line.pk for line in lines[:100]], lines[100].pk, revision


# ---------------------------------------------------------------------------
# 1. Commitments per second: the service and the raw baseline, in worker processes


def _service_worker(line_ids, user_id, year_id, seed, count, barrier, results):
    from django.contrib.auth import get_user_model
    from django.db import connections

    from budgets import services
    from budgets.models import FiscalYear

    try:
        user = get_user_model().objects.get(pk=user_id)
        document = FiscalYear.objects.get(pk=year_id)
        rng = random.Random(seed)

        def attempt() -> bool:
            try:
                services.credits_commit(
                    user=user,
                    document=document,
                    amounts={rng.choice(line_ids): rng.randint(1_000, 50_000)},
                )
            except services.CreditsShortError:
                return False
            return True

        for _ in range(3):  # warm up the connection and the caches
            attempt()
        barrier.wait()
        done = sum(attempt() for _ in range(count))
        results.put((done, count - done))
    finally:
        connections.close_all()


RAW_UPDATE = (
    "UPDATE budgets_budgetline SET committed = committed + %(amount)s "
    "WHERE id = %(line)s AND opened - committed >= %(amount)s "
    "RETURNING opened - committed"
)
RAW_INSERT = (
    "INSERT INTO budgets_ledgerentry (budget_line_id, kind, amount, available_after, "
    "document_type_id, document_id, user_id, created_at, reason) "
    "VALUES (%(line)s, 'commit', %(amount)s, %(available)s, %(doc_type)s, %(doc_id)s, "
    "%(user)s, now(), '')"
)


def _raw_worker(conninfo, line_ids, ids, seed, count, barrier, results):
    import psycopg

    rng = random.Random(seed)
    with psycopg.connect(**conninfo) as conn:

        def attempt() -> bool:
            params = {**ids, "line": rng.choice(line_ids), "amount": rng.randint(1_000, 50_000)}
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute(RAW_UPDATE, params)
                row = cursor.fetchone()
                if row is None:
                    return False
                cursor.execute(RAW_INSERT, {**params, "available": row[0]})
            return True

        for _ in range(3):
            attempt()
        barrier.wait()
        done = sum(attempt() for _ in range(count))
        results.put((done, count - done))


def _reporting_errors(target, *args):
    """Run a worker; on failure, release the others and hand the traceback to the parent."""
    barrier, results = args[-2], args[-1]
    try:
        target(*args)
    except BaseException:
        barrier.abort()
        results.put(traceback.format_exc())


def _django_sql_worker(line_ids, ids, seed, count, barrier, results):
    """The raw transaction sent through Django's connection and transaction.atomic():
    what the service would cost without the ORM (a reference, not the app's code)."""
    from django.db import connection, connections, transaction

    rng = random.Random(seed)
    try:

        def attempt() -> bool:
            params = {**ids, "line": rng.choice(line_ids), "amount": rng.randint(1_000, 50_000)}
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(RAW_UPDATE, params)
                row = cursor.fetchone()
                if row is None:
                    return False
                cursor.execute(RAW_INSERT, {**params, "available": row[0]})
            return True

        for _ in range(3):
            attempt()
        barrier.wait()
        done = sum(attempt() for _ in range(count))
        results.put((done, count - done))
    finally:
        connections.close_all()


def _run_workers(target, args_for_worker, workers: int = WORKERS) -> dict:
    """Start `workers` processes, release them together, and time them until the last ends."""
    from django.db import connections

    connections.close_all()  # the children open their own connections
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_reporting_errors, args=(target, *args_for_worker(n), barrier, results)
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed: see below
        barrier.wait(timeout=120)
    started = time.perf_counter()
    outcomes = [results.get(timeout=600) for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    # The cause first: the others only saw the barrier broken.
    errors = sorted(
        (outcome for outcome in outcomes if isinstance(outcome, str)),
        key=lambda error: "BrokenBarrierError" in error,
    )
    if errors:
        raise RuntimeError(f"{len(errors)} worker(s) failed; the first:\n{errors[0]}")
    done = sum(ok for ok, _refused in outcomes)
    return {
        "commits": done,
        "refused": sum(refused for _ok, refused in outcomes),
        "seconds": round(seconds, 3),
        "per_second": round(done / seconds, 1),
    }


def bench_commitments(chef, year, many, hot, revision) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from budgets.models import FiscalYear

    settings = connection.settings_dict
    conninfo = {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        "host": settings["HOST"],
        "port": settings["PORT"] or 5432,
    }
    ids = {
        "doc_type": ContentType.objects.get_for_model(FiscalYear).pk,
        "doc_id": year.pk,
        "user": chef.pk,
    }
    summary = {"workers": WORKERS, "attempts_per_worker": COMMITS_PER_WORKER}
    scenarios = (
        ("lines_100", many, WORKERS),
        ("hot_line", [hot], WORKERS),
        # One worker alone: the cost of one transaction, without any waiting for locks.
        ("one_worker_lines_100", many, 1),
    )
    for name, line_ids, workers in scenarios:
        raw = _run_workers(
            _raw_worker,
            lambda n, line_ids=line_ids: (conninfo, line_ids, ids, n, COMMITS_PER_WORKER),
            workers,
        )
        service = _run_workers(
            _service_worker,
            lambda n, line_ids=line_ids: (line_ids, chef.pk, year.pk, n, COMMITS_PER_WORKER),
            workers,
        )
        django_sql = _run_workers(
            _django_sql_worker,
            lambda n, line_ids=line_ids: (line_ids, ids, n, COMMITS_PER_WORKER),
            workers,
        )
        summary[name] = {
            "service": service,
            "raw_psycopg": raw,
            "ratio": round(service["per_second"] / raw["per_second"], 2),
            "same_sql_through_django_connection": django_sql,
        }
    summary["target_ratio"] = RATIO_TARGET
    return summary


# ---------------------------------------------------------------------------
# 2. A big ledger, built with bulk SQL


def _closed_form(k: int, c: str) -> dict[str, str]:
    """SQL expressions of a line's entries j = 0..k-1 and of its totals, for a unit amount `c`
    (`%%` is the modulo in a statement with parameters).

    j = 0 opens k * c; odd j commits c; even j liquidates c, except every tenth,
    which releases it. After entry j: (j + 1) // 2 commitments, j // 10 releases.
    """
    return {
        "kind": (
            "CASE WHEN j = 0 THEN 'open' WHEN j %% 2 = 1 THEN 'commit' "
            "WHEN j %% 10 = 0 THEN 'release' ELSE 'liquidate' END"
        ),
        "amount": f"CASE WHEN j = 0 THEN {k} * {c} WHEN j %% 10 = 0 THEN -{c} ELSE {c} END",
        "available_after": f"{k} * {c} - {c} * ((j + 1) / 2) + {c} * (j / 10)",
        "opened": f"{k} * {c}",
        "committed": f"{c} * {k // 2 - (k - 1) // 10}",
        "liquidated": f"{c} * {(k - 1) // 2 - (k - 1) // 10}",
    }


def build_ledger(chef, year, axes, revision) -> dict:
    """LINES lines with ENTRIES_PER_LINE entries each, in a few bulk statements."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from budgets.models import BudgetLine, BudgetRevision, FiscalYear, LedgerEntry

    started = time.perf_counter()
    lines = []
    for n in range(LINES):
        account, centre, project = next(axes)
        lines.append(
            BudgetLine(
                fiscal_year=year,
                code=_code(account, centre, project),
                label=f"Ligne {n:05d} : {account.label[:60]} ({centre.code})",
                section=account.chapter.section,
                nature_account=account,
                cost_centre=centre,
                project=project,
            )
        )
    k = ENTRIES_PER_LINE
    # The unit amount of a line, from its id: between 1 000 and 10 600 F.
    entry = _closed_form(k, "c")
    total = _closed_form(k, "(1000 + (id %% 97) * 100)")
    open_type = ContentType.objects.get_for_model(BudgetRevision).pk
    other_type = ContentType.objects.get_for_model(FiscalYear).pk
    if connection.vendor == "postgresql":
        series, now = f"generate_series(0, {k - 1}) AS s(j)", "now()"
        prefix = ""
    else:
        series, now = "seq", "CURRENT_TIMESTAMP"
        prefix = f"WITH RECURSIVE seq(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM seq WHERE j < {k - 1}) "  # noqa: S608
    # The statements below are built from integers and fixed SQL only (hence the noqa: S608).
    with transaction.atomic():
        BudgetLine.objects.bulk_create(lines, batch_size=2000)
        first = min(line.pk for line in lines)  # PostgreSQL and SQLite return the ids
        with connection.cursor() as cursor:
            cursor.execute(
                f"{prefix}INSERT INTO budgets_ledgerentry (budget_line_id, kind, amount, "  # noqa: S608
                "available_after, document_type_id, document_id, user_id, created_at, reason) "
                f"SELECT id, {entry['kind']}, {entry['amount']}, {entry['available_after']}, "
                f"CASE WHEN j = 0 THEN %s ELSE %s END, CASE WHEN j = 0 THEN %s ELSE %s END, "
                f"%s, {now}, '' "
                "FROM (SELECT id, 1000 + (id %% 97) * 100 AS c FROM budgets_budgetline "
                f"WHERE id >= %s) AS l, "
                f"{series} ORDER BY id, j",
                [open_type, other_type, revision.pk, year.pk, chef.pk, first],
            )
            cursor.execute(
                f"UPDATE budgets_budgetline SET opened = {total['opened']}, "  # noqa: S608
                f"committed = {total['committed']}, liquidated = {total['liquidated']} "
                "WHERE id >= %s",
                [first],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE budgets_ledgerentry")
            cursor.execute("VACUUM ANALYZE budgets_budgetline")
    return {
        "lines": LINES,
        "entries": LedgerEntry.objects.filter(budget_line_id__gte=first).count(),
        "seconds": round(time.perf_counter() - started, 2),
    }


# ---------------------------------------------------------------------------
# 2. The pages


def _slowest_query(client, url, params, headers) -> dict:
    """The queries of one request; on PostgreSQL the slowest by EXPLAIN ANALYZE, with its plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    found = {"queries": len(queries.captured_queries)}
    if connection.vendor != "postgresql":
        return found
    slowest, slowest_ms, plan = None, -1.0, []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            lines = [row[0] for row in cursor.fetchall()]
            ms = float(lines[-1].split(":")[1].split()[0])  # "Execution Time: 1.234 ms"
            if ms > slowest_ms:
                slowest, slowest_ms, plan = query["sql"], ms, lines
    found.update(slowest_ms=round(slowest_ms, 2), slowest_sql=slowest[:600], plan=plan)
    return found


def bench_pages(chef, year) -> dict:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    client = Client()
    client.force_login(chef)
    htmx = {"HX-Request": "true", "HX-Target": "table-region"}
    filtered = {"year": year.year, "section": "F", "cost_centre": "INFRA"}
    api_filtered = {"year": year.year, "section": "F", "cost_centre": "INFRA"}
    pages = {
        "disco": ("budgets:disco", {}, {}),
        "disco_filtered": ("budgets:disco", filtered, {}),
        "disco_filtered_htmx": ("budgets:disco", filtered, htmx),
        "disco_sorted_last_page": ("budgets:disco", {"sort": "-available", "page": 0}, htmx),
        "api_budget_lines": ("api:budget-line-list", {}, {}),
        "api_budget_lines_filtered": ("api:budget-line-list", api_filtered, {}),
    }
    summary = {}
    for name, (url_name, params, headers) in pages.items():
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            summary[name] = {"missing": f"no URL named {url_name} yet"}
            continue
        if params.get("page") == 0:  # the last page
            table = client.get(url, {}).context["table"]
            params["page"] = table.paginator.num_pages
        response = client.get(url, params, headers=headers)
        if response.status_code != 200:
            summary[name] = {"error": f"HTTP {response.status_code}"}
            continue
        cpu_ms = []

        def get(url=url, params=params, headers=headers, cpu_ms=cpu_ms):
            started = time.process_time()
            client.get(url, params, headers=headers)
            cpu_ms.append((time.process_time() - started) * 1000)

        timing = measure(f"GET {url_name} {params}", get, runs=PAGE_RUNS, warmup=5)
        result = {
            "p50_ms": round(timing.p50_ms, 1),
            "p95_ms": round(timing.p95_ms, 1),
            # The Python process's own CPU time (the database's is elsewhere): less
            # sensitive than the wall time to the other loads of a shared machine.
            "python_cpu_p50_ms": round(statistics.median(cpu_ms[-PAGE_RUNS:]), 1),
        }
        detail = _slowest_query(client, url, params, headers)
        over = name.startswith("disco") and timing.p95_ms > DISCO_TARGET_P95_MS
        if not over and detail.get("slowest_ms", 0) < SLOW_QUERY_MS:
            detail.pop("plan", None)  # plans only where there is something to look at
        result.update(detail)
        summary[name] = result
    summary["target_disco_p95_ms"] = DISCO_TARGET_P95_MS
    return summary


# ---------------------------------------------------------------------------
# 3. check_ledger


def bench_check_ledger() -> dict:
    from django.core.management import CommandError, call_command

    from budgets.models import LedgerEntry

    out = io.StringIO()
    started = time.perf_counter()
    try:
        call_command("check_ledger", stdout=out)
        clean, message = True, out.getvalue().strip().splitlines()[-1]
    except CommandError as error:
        clean, message = False, f"{out.getvalue()[-2000:]} {error}"
    return {
        "entries": LedgerEntry.objects.count(),
        "seconds": round(time.perf_counter() - started, 2),
        "clean": clean,
        "message": message,
        "target_seconds": CHECK_LEDGER_TARGET_S,
    }


def _targets_met(summary: dict) -> dict:
    """Each target of the issue: met (true), missed (false), or not measured here (null)."""
    commitments, pages, check = summary["commitments"], summary["pages"], summary["check_ledger"]
    ratios = [
        commitments[name]["ratio"] for name in ("lines_100", "hot_line") if name in commitments
    ]
    disco = [page["p95_ms"] for name, page in pages.items() if name.startswith("disco_filtered")]
    disco += [pages["disco"]["p95_ms"]] if "p95_ms" in pages.get("disco", {}) else []
    return {
        "service_at_least_half_of_raw": min(ratios) >= RATIO_TARGET if ratios else None,
        "disco_p95_under_300_ms": max(disco) < DISCO_TARGET_P95_MS if disco else None,
        "check_ledger_under_30_s_and_clean": check["clean"]
        and check["seconds"] < CHECK_LEDGER_TARGET_S,
    }


def run():
    from django.db import connection
    from django.db.models import F
    from django.test.utils import setup_test_environment

    from budgets.models import BudgetLine

    setup_test_environment()
    summary = {
        "database": f"{connection.vendor} {connection.Database.__name__}",
        "scale": SCALE,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            summary["database"] = f"PostgreSQL {cursor.fetchone()[0]}"
    chef, directeur, year, axes = _setup()
    many, hot, revision = _commit_lines(chef, directeur, year, axes)
    summary["build"] = build_ledger(chef, year, axes, revision)
    yield f"built {summary['build']['lines']} lines, {summary['build']['entries']} entries in {summary['build']['seconds']} s"
    if connection.vendor == "postgresql":
        summary["commitments"] = bench_commitments(chef, year, many, hot, revision)
        summary["commitments"]["overspent_lines"] = BudgetLine.objects.filter(
            committed__gt=F("opened")
        ).count()
    else:
        summary["commitments"] = {"skipped": "needs PostgreSQL (row locks, psycopg baseline)"}
    yield "commitments measured"
    summary["pages"] = bench_pages(chef, year)
    yield "pages measured"
    summary["check_ledger"] = bench_check_ledger()
    summary["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    summary["targets_met"] = _targets_met(summary)
    yield json.dumps(summary, indent=2, ensure_ascii=False)

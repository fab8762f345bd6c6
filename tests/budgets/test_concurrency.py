"""No overspend under concurrency (DESIGN.md, rule 2), on PostgreSQL.

Sixteen threads, each with its own database connection, start together behind a
barrier and make 400 commitment attempts through `services.credits_commit`
against lines whose credits cover about half of what is asked. Afterwards the
ledger is read back: no line (or chapter) ever went below zero, every accepted
franc is in the ledger and in the cached totals, and every refusal was the clean
`CreditsShortError` with the figures of a real moment of the line.

The same harness is then run against a deliberately unlocked variant of the
service (the rows are read without `select_for_update`, with a short pause before
the write): it must find the overspend, which proves the harness can fail.
"""

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import translation

from budgets import services
from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from budgets.selectors import FIGURE_KINDS, broken_balances, ledger_differences
from dsi_finance.money import format_xpf
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKERS = 16
ATTEMPTS = 400


@dataclass
class Outcome:
    accepted: list[dict[int, int]] = field(default_factory=list)
    refused: list[tuple[dict[int, int], services.CreditsShortError]] = field(default_factory=list)
    unexpected: list[BaseException] = field(default_factory=list)


def run_attempts(attempts: list[dict[int, int]], *, user, document) -> Outcome:
    """Play the attempts on WORKERS threads started together; each thread has its own
    connection (Django's connections are per thread) and closes it when done."""
    outcome = Outcome()
    barrier = threading.Barrier(WORKERS)
    record = threading.Lock()
    # A deadlock costs PostgreSQL a second to detect: after the first unexpected
    # error the workers stop, so that a failing run fails fast.
    stop = threading.Event()

    def work(chunk: list[dict[int, int]]) -> None:
        try:
            with translation.override("fr"):
                barrier.wait(timeout=30)
                for amounts in chunk:
                    if stop.is_set():
                        break
                    try:
                        services.credits_commit(user=user, document=document, amounts=amounts)
                    except services.CreditsShortError as error:
                        with record:
                            outcome.refused.append((amounts, error))
                    except Exception as error:
                        with record:
                            outcome.unexpected.append(error)
                        stop.set()
                    else:
                        with record:
                            outcome.accepted.append(amounts)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(attempts[i::WORKERS],), daemon=True)
        for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (lock wait?)"
    return outcome


def committed_in_ledger(line_ids) -> dict[int, int]:
    rows = (
        LedgerEntry.objects.filter(budget_line__in=line_ids, kind__in=FIGURE_KINDS["committed"])
        .order_by()
        .values_list("budget_line_id")
        .annotate(total=Sum("amount"))
    )
    return {line_id: 0 for line_id in line_ids} | dict(rows)


def overspending(outcome: Outcome, groups: dict[str, list[int]]) -> list[str]:
    """Everything that shows an overspend or a lost update; [] when the run was safe.

    `groups` maps a control scope (a line, or a chapter at chapter level) to its lines:
    the committed amount of each scope must never exceed its opened credits. "Never"
    is read from the ledger: replaying a scope's entries in the order they were
    written, the running committed amount stays within the running opened credits.
    """
    problems = []
    all_ids = [pk for ids in groups.values() for pk in ids]
    lines = BudgetLine.objects.in_bulk(all_ids)
    ledger = committed_in_ledger(all_ids)
    accepted = defaultdict(int)
    for amounts in outcome.accepted:
        for pk, amount in amounts.items():
            accepted[pk] += amount
    for pk, line in lines.items():
        if accepted[pk] != ledger[pk]:
            problems.append(f"{line.code}: {accepted[pk]} accepted, {ledger[pk]} in the ledger")
        if line.committed != ledger[pk]:
            problems.append(f"{line.code}: {line.committed} cached, {ledger[pk]} in the ledger")
    for scope, ids in groups.items():
        opened = committed = 0
        for kind, amount in (
            LedgerEntry.objects.filter(budget_line__in=ids)
            .order_by("pk")
            .values_list("kind", "amount")
        ):
            if kind in FIGURE_KINDS["opened"]:
                opened += amount
            else:
                committed += amount
            if committed > opened:
                problems.append(f"{scope}: {committed} committed over {opened} opened")
                break
    problems += [f"cache differs: {diff}" for diff in ledger_differences()]
    problems += [f"balance broken: entry {entry.pk}" for entry in broken_balances()]
    problems += [f"override entry {e.pk}" for e in LedgerEntry.objects.filter(kind="override")]
    return problems


def assert_refusals_are_clean(outcome: Outcome, lines: dict[int, BudgetLine]) -> None:
    """Each refusal is CreditsShortError, coded credits_short, naming the line (or chapter)
    and its figures, and the available amount it quotes is one the line really had."""
    assert outcome.refused, "the credits were meant to run short"
    moments = defaultdict(set)  # line -> every available amount it had
    for line in lines.values():
        moments[line.pk].add(line.opened)
    for pk, after in LedgerEntry.objects.filter(budget_line__in=lines).values_list(
        "budget_line_id", "available_after"
    ):
        moments[pk].add(after)
    for amounts, error in outcome.refused:
        assert type(error) is services.CreditsShortError
        assert error.code == "credits_short"
        assert error.can_override is False
        (message,) = error.messages
        assert message.startswith("Le disponible est insuffisant (")
        assert message.endswith(". Seul le DSI peut passer outre, avec un motif écrit.")
        assert error.shortages
        for shortage in error.shortages:
            assert shortage.requested > shortage.available
            assert shortage.scope.startswith(("ligne ", "chapitre "))
            assert (
                f"{shortage.scope} : {format_xpf(shortage.requested)} demandés, "
                f"{format_xpf(shortage.available)} disponibles"
            ) in message
        short_lines = [pk for pk in amounts if lines[pk].code in message]
        for pk in short_lines:
            shortage = next(s for s in error.shortages if lines[pk].code in s.scope)
            assert shortage.requested == amounts[pk]
            # The figure was true at some moment, and no later moment had more.
            assert shortage.available in moments[pk]
            assert shortage.available >= lines[pk].available


def unlocked_lock_lines(line_ids):
    """The service without its lock: reads the rows like anyone else, then dawdles
    so that other workers read the same available amount before this one writes."""
    lines = (
        BudgetLine.objects.select_related("fiscal_year", "nature_account__chapter")
        .filter(pk__in=sorted(set(line_ids)))
        .order_by("pk")
    )
    found = {line.pk: line for line in lines}
    time.sleep(0.003)
    return found


@pytest.fixture
def unlocked(monkeypatch):
    # Without its lock, and without the guarded-UPDATE fast path (itself race-free),
    # so that every attempt reads, decides and writes as a careless service would.
    monkeypatch.setattr(services, "lock_lines", unlocked_lock_lines)
    monkeypatch.setattr(services, "commit_within_available", lambda *args, **kwargs: None)


# --- Scenarios ---------------------------------------------------------------


def one_hot_line(seed: int):
    """One line whose credits cover about half of 400 random attempts."""
    rng = random.Random(seed)  # noqa: S311 (seeded test figures)
    line = BudgetLineFactory()
    attempts = [{line.pk: rng.randint(1, 5_000)} for _ in range(ATTEMPTS)]
    fund({line: sum(a[line.pk] for a in attempts) // 2})
    return {line.pk: line}, attempts


def many_lines(seed: int, *, count: int = 50, attempts: int = ATTEMPTS, year=None, chapters=None):
    """`count` lines; each attempt commits on one to four of them, listed in random order,
    so that overlapping transactions must lock in one order not to deadlock."""
    rng = random.Random(seed)  # noqa: S311 (seeded test figures)
    year = year or FiscalYearFactory()
    chapters = chapters or [ChapterFactory()]
    lines = [
        BudgetLineFactory(
            fiscal_year=year,
            nature_account=NatureAccountFactory(chapter=chapters[i % len(chapters)]),
        )
        for i in range(count)
    ]
    tries = []
    for _ in range(attempts):
        chosen = rng.sample(lines, rng.choice([1, 1, 2, 3, 4]))
        tries.append({line.pk: rng.randint(1, 5_000) for line in chosen})
    demand = defaultdict(int)
    for amounts in tries:
        for pk, amount in amounts.items():
            demand[pk] += amount
    # Some lines get more than half their demand, some less, a few nothing at all.
    fund({line: max(1, demand[line.pk] * rng.choice([0, 1, 2]) // 4) for line in lines})
    return {line.pk: line for line in lines}, tries


def per_line(lines) -> dict[str, list[int]]:
    return {line.code: [pk] for pk, line in lines.items()}


def per_chapter(lines) -> dict[str, list[int]]:
    groups = defaultdict(list)
    for pk, line in lines.items():
        groups[line.nature_account.chapter.code].append(pk)
    return dict(groups)


def chapter_year_lines(seed: int):
    """A chapter-controlled year: 12 lines over two chapters of the operating section,
    200 attempts.

    Each commitment locks its whole chapter, so a chapter's commitments queue up
    one by one: a dozen lines and half the attempts keep the run short."""
    year = FiscalYearFactory(control_level=FiscalYear.ControlLevel.CHAPTER)
    chapters = [ChapterFactory(code="011"), ChapterFactory(code="65", label="Autres charges")]
    return many_lines(seed, count=12, attempts=ATTEMPTS // 2, year=year, chapters=chapters)


def refresh(lines: dict[int, BudgetLine]) -> dict[int, BudgetLine]:
    return BudgetLine.objects.select_related("nature_account__chapter").in_bulk(list(lines))


# --- The locked service is safe ------------------------------------------------


def test_one_hot_line_is_never_overspent_by_sixteen_concurrent_workers(postgres_only, chef):
    lines, attempts = one_hot_line(seed=2026)
    (line,) = lines.values()

    outcome = run_attempts(attempts, user=chef, document=line.fiscal_year)

    assert outcome.unexpected == []
    assert len(outcome.accepted) + len(outcome.refused) == ATTEMPTS
    assert len(outcome.accepted) >= ATTEMPTS // 4 and len(outcome.refused) >= ATTEMPTS // 4
    assert overspending(outcome, per_line(lines)) == []
    line.refresh_from_db()
    assert line.committed == sum(a[line.pk] for a in outcome.accepted) <= line.opened
    # Every refusal was deserved: the line never had room for any refused amount.
    assert line.available < min(a[line.pk] for a, _error in outcome.refused)
    assert_refusals_are_clean(outcome, refresh(lines))


def test_fifty_lines_committed_together_in_any_order_never_overspend_nor_deadlock(
    postgres_only, chef
):
    lines, attempts = many_lines(seed=7)

    outcome = run_attempts(attempts, user=chef, document=next(iter(lines.values())).fiscal_year)

    assert outcome.unexpected == []
    assert len(outcome.accepted) >= ATTEMPTS // 4 and len(outcome.refused) >= ATTEMPTS // 4
    assert any(len(a) > 1 for a in outcome.accepted), "multi-line attempts must get through"
    assert overspending(outcome, per_line(lines)) == []
    lines = refresh(lines)
    assert all(0 <= line.committed <= line.opened for line in lines.values())
    assert_refusals_are_clean(outcome, lines)


def test_chapter_control_keeps_each_chapter_within_its_credits_under_concurrency(
    postgres_only, chef
):
    lines, attempts = chapter_year_lines(seed=11)

    outcome = run_attempts(attempts, user=chef, document=next(iter(lines.values())).fiscal_year)

    assert outcome.unexpected == []
    assert (
        len(outcome.accepted) >= len(attempts) // 4 and len(outcome.refused) >= len(attempts) // 4
    )
    assert overspending(outcome, per_chapter(lines)) == []
    lines = refresh(lines)
    # Chapter control lets a line go below zero while its chapter has room.
    assert any(line.available < 0 for line in lines.values())
    for ids in per_chapter(lines).values():
        assert sum(lines[pk].committed for pk in ids) <= sum(lines[pk].opened for pk in ids)
    for _amounts, error in outcome.refused:
        assert error.code == "credits_short"
        assert error.messages[0].startswith("Le disponible est insuffisant (chapitre ")
        assert {s.scope for s in error.shortages} <= {"chapitre 011", "chapitre 65"}
        assert all(s.requested > s.available for s in error.shortages)


# --- The same harness catches an unlocked service --------------------------------


def test_the_harness_detects_the_overspend_of_an_unlocked_service_on_one_line(
    postgres_only, chef, unlocked
):
    lines, attempts = one_hot_line(seed=2026)

    outcome = run_attempts(attempts, user=chef, document=next(iter(lines.values())).fiscal_year)

    assert outcome.unexpected == []
    assert overspending(outcome, per_line(lines)) != []


def test_the_harness_detects_the_overspend_of_an_unlocked_service_on_fifty_lines(
    postgres_only, chef, unlocked
):
    lines, attempts = many_lines(seed=7)

    outcome = run_attempts(attempts, user=chef, document=next(iter(lines.values())).fiscal_year)

    assert overspending(outcome, per_line(lines)) != []


def test_the_harness_detects_the_overspend_of_an_unlocked_service_at_chapter_level(
    postgres_only, chef, unlocked
):
    lines, attempts = chapter_year_lines(seed=11)

    outcome = run_attempts(attempts, user=chef, document=next(iter(lines.values())).fiscal_year)

    assert overspending(outcome, per_chapter(lines)) != []

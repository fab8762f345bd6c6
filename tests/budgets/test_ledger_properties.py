"""Any sequence of budget operations keeps the ledger and its cached totals in step.

A Hypothesis state machine plays random sequences of the real services on one
fiscal year (its control level and mode drawn too): the BP vote, DM1 and DM2
votes, commitments by the section head or the IT director with or without a
reason, releases, liquidations and their reversal, transfers requested then
approved (or refused because the source has been spent meanwhile), and bad
input. A plain Python model keeps the totals it expects; after every step the
database must agree with it, and with itself:

- available = opened − committed and committed ≥ liquidated on every line;
- the cached totals equal the sums of the ledger (ledger_differences() == []),
  and each entry's available_after is its line's running balance;
- a line (at line-level control) or a chapter (at chapter-level control) goes
  below zero only through an override entry;
- an operation the rules refuse raises a ServiceError and changes nothing.

Amounts are drawn around the limits (exactly what is free, one franc more), where
off-by-one mistakes live. Shrinking is off: replaying hundreds of database-heavy
sequences takes minutes, and a failure prints its sequence (20 steps at most).

Each example runs in a savepoint rolled back at its end, so examples do not see
each other's rows; runs on SQLite and on PostgreSQL.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from budgets import services
from budgets.models import (
    BudgetLine,
    BudgetRevision,
    FiscalYear,
    LedgerEntry,
    Transfer,
)
from budgets.selectors import (
    broken_balances,
    ledger_differences,
    line_availability,
)
from dsi_finance.errors import ServiceError
from dsi_finance.money import MAX_AMOUNT
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    FiscalYearFactory,
    NatureAccountFactory,
)

pytestmark = pytest.mark.django_db

# (chapter code, section) of each line: two lines share chapter 011, so that
# chapter-level control has credits to pool and a transfer may leave the chapter
# for 65; the investment line cannot take part in an operating transfer.
LINE_CHAPTERS = [("011", "F"), ("011", "F"), ("65", "F"), ("21", "I")]
LINE = st.integers(min_value=0, max_value=len(LINE_CHAPTERS) - 1)
# Transfers between two different operating lines (a transfer to the same line or across
# sections is refused before anything is read: the services tests check that).
OPERATING = [i for i, (_chapter, section) in enumerate(LINE_CHAPTERS) if section == "F"]
PAIRS = [(a, b) for a in OPERATING for b in OPERATING if a != b]
BAD_AMOUNTS = [0, -1, -500, MAX_AMOUNT + 1, 12.5, "100", True]


@dataclass
class Expected:
    opened: int = 0
    committed: int = 0
    liquidated: int = 0

    @property
    def available(self) -> int:
        return self.opened - self.committed

    @property
    def to_liquidate(self) -> int:
        return self.committed - self.liquidated


class LedgerMachine(RuleBasedStateMachine):
    transfers = Bundle("transfers")

    def __init__(self, *, chef, directeur):
        super().__init__()
        self.chef, self.directeur = chef, directeur
        self.users = {"chef": chef, "directeur": directeur}
        # Every example in its own savepoint, rolled back by teardown().
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.year = None
        self.lines: list[BudgetLine] = []
        self.expected: dict[int, Expected] = {}
        self.entries = 0
        self.overridden: set[int] = set()
        self.amendments = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------

    def line(self, index: int) -> BudgetLine:
        return self.lines[index]

    def chapter_of(self, pk: int) -> str:
        return LINE_CHAPTERS[[line.pk for line in self.lines].index(pk)][0]

    def refused(self, call, error=ServiceError):
        """The call raises `error`, a ServiceError with a message. That it changed nothing
        is the invariant's job: the model is left as it was, and the database must still
        agree with it (every total of every line, and the number of ledger entries)."""
        with pytest.raises(error) as raised:
            call()
        assert isinstance(raised.value, ServiceError)
        assert raised.value.messages and all(raised.value.messages)
        return raised.value

    def vote(self, kind: str, changes: dict[int, int]) -> None:
        """Prepare (chef), submit and vote (directeur) a revision through the services."""
        revision = BudgetRevision.objects.filter(fiscal_year=self.year, kind=kind).first()
        if revision is None:
            revision = services.revision_create(user=self.chef, fiscal_year=self.year, kind=kind)
        elif revision.state == BudgetRevision.State.SUBMITTED:  # refused at its last vote
            revision = services.revision_return_to_draft(user=self.directeur, revision=revision)
        for item in list(revision.items.select_related("budget_line")):
            services.revision_item_remove(
                user=self.chef, revision=revision, budget_line=item.budget_line
            )
        for pk, amount in changes.items():
            services.revision_item_set(
                user=self.chef,
                revision=revision,
                budget_line=BudgetLine.objects.get(pk=pk),
                amount=amount,
                justification="Ajustement",
            )
        services.revision_submit(user=self.directeur, revision=revision)
        services.revision_vote(
            user=self.directeur,
            revision=revision,
            vote_date=datetime.date(self.year.year, 6, 30),
            vote_reference=f"Délibération {kind}",
        )

    def chapter_figures(self, chapter: str) -> tuple[int, int]:
        """(opened, committed) expected on a chapter."""
        members = [
            self.expected[line.pk] for line in self.lines if self.chapter_of(line.pk) == chapter
        ]
        return sum(e.opened for e in members), sum(e.committed for e in members)

    def shortages(self, wanted: dict[int, int]) -> dict[int, tuple[int, int]]:
        """The requested lines that lack credits, with the (requested, available) the
        error must quote: the line's at line level, the chapter's at chapter level."""
        if self.year.control_level == FiscalYear.ControlLevel.LINE:
            return {
                pk: (amount, self.expected[pk].available)
                for pk, amount in wanted.items()
                if amount > self.expected[pk].available
            }
        by_chapter = defaultdict(list)
        for line in self.lines:
            by_chapter[self.chapter_of(line.pk)].append(line.pk)
        short = {}
        for ids in by_chapter.values():
            asked = sum(wanted.get(pk, 0) for pk in ids)
            room = sum(self.expected[pk].available for pk in ids)
            if asked > room:
                short |= {pk: (asked, room) for pk in ids if pk in wanted}
        return short

    # --- the year and its votes ----------------------------------------------

    @initialize(
        level=st.sampled_from(FiscalYear.ControlLevel.values),
        mode=st.sampled_from(FiscalYear.ControlMode.values),
        credits=st.lists(
            st.integers(min_value=1, max_value=5_000) | st.none(),
            min_size=len(LINE_CHAPTERS),
            max_size=len(LINE_CHAPTERS),
        ),
    )
    def vote_the_initial_budget(self, level, mode, credits):
        self.year = FiscalYearFactory(year=2026, control_level=level, control_mode=mode)
        centre = CostCentreFactory()
        for index, (chapter, section) in enumerate(LINE_CHAPTERS):
            account = NatureAccountFactory(
                chapter=ChapterFactory(code=chapter, label=f"Chapitre {chapter}", section=section)
            )
            line = BudgetLineFactory(
                fiscal_year=self.year,
                nature_account=account,
                cost_centre=centre,
                code=f"P{index}",
            )
            self.lines.append(line)
            self.expected[line.pk] = Expected()
        bp = {line.pk: c for line, c in zip(self.lines, credits, strict=True) if c is not None}
        if not bp:
            bp = {self.lines[0].pk: 1_000}
        self.vote(BudgetRevision.Kind.BP, bp)
        for pk, amount in bp.items():
            self.expected[pk].opened += amount
        self.entries += len(bp)

    @precondition(lambda self: self.amendments < 2)
    @rule(indexes=st.sets(LINE, min_size=1, max_size=3), data=st.data())
    def vote_an_amending_decision(self, indexes, data):
        kind = BudgetRevision.SEQUENCE[self.amendments + 1]
        changes = {}
        for index in sorted(indexes):
            pk = self.line(index).pk
            # Cuts around what is free on the line: some fit, some go too deep.
            deepest = self.expected[pk].opened + 200
            changes[pk] = data.draw(
                st.integers(min_value=-deepest, max_value=3_000).filter(bool), label=f"P{index}"
            )
        too_deep = [
            pk
            for pk, change in changes.items()
            if change < 0 and self.expected[pk].opened + change < self.expected[pk].committed
        ]
        shallow_chapters = []
        if self.year.control_level == FiscalYear.ControlLevel.CHAPTER:
            by_chapter = defaultdict(int)
            for pk, change in changes.items():
                by_chapter[self.chapter_of(pk)] += change
            for chapter, change in by_chapter.items():
                opened, committed = self.chapter_figures(chapter)
                if change < 0 and opened + change < committed:
                    shallow_chapters.append(chapter)
        if too_deep or shallow_chapters:
            # Line cuts are caught when the decision is submitted, chapter cuts at its vote.
            error = self.refused(lambda: self.vote(kind, changes))
            assert error.messages
            for pk in too_deep:
                assert any(BudgetLine.objects.get(pk=pk).code in m for m in error.messages)
            if not too_deep:
                assert len(error.messages) == len(shallow_chapters)
                for chapter in shallow_chapters:
                    assert any(chapter in m for m in error.messages)
            assert (
                BudgetRevision.objects.get(fiscal_year=self.year, kind=kind).state
                != BudgetRevision.State.VOTED
            )
            return
        self.vote(kind, changes)
        for pk, change in changes.items():
            self.expected[pk].opened += change
        self.entries += len(changes)
        self.amendments += 1

    # --- credits ---------------------------------------------------------------

    def room(self, pk: int) -> int:
        """What the control checks for a line: its available amount, or its chapter's."""
        if self.year.control_level == FiscalYear.ControlLevel.LINE:
            return self.expected[pk].available
        opened, committed = self.chapter_figures(self.chapter_of(pk))
        return opened - committed

    def amount_around(self, room: int):
        """Exactly the limit, one franc over, a small part of it, or anything up to a bit over."""
        room = max(room, 1)
        return (
            st.sampled_from([room, room + 1])
            | st.integers(min_value=1, max_value=max(1, room // 3))
            | st.integers(min_value=1, max_value=room + 500)
        )

    @rule(
        indexes=st.sets(LINE, min_size=1, max_size=3),
        who=st.sampled_from(["chef", "directeur"]),
        reason=st.sampled_from(["", "Marché urgent"]),
        data=st.data(),
    )
    def commit(self, indexes, who, reason, data):
        wanted = {
            self.line(i).pk: data.draw(
                self.amount_around(self.room(self.line(i).pk)), label=f"P{i}"
            )
            for i in sorted(indexes)
        }
        short = self.shortages(wanted)
        warn = self.year.control_mode == FiscalYear.ControlMode.WARN
        may_override = warn or who == "directeur"
        call = lambda: services.credits_commit(  # noqa: E731
            user=self.users[who], document=self.year, amounts=wanted, override_reason=reason
        )
        if short and not (reason and may_override):
            error = self.refused(call, services.CreditsShortError)
            assert error.code == "credits_short"
            assert error.can_override is may_override
            quoted = {(s.requested, s.available) for s in error.shortages}
            assert quoted == set(short.values())
            return
        result = call()
        assert sorted(e.budget_line_id for e in result.entries) == sorted(wanted)
        for entry in result.entries:
            assert entry.amount == wanted[entry.budget_line_id]
            expected_kind = "override" if entry.budget_line_id in short else "commit"
            assert entry.kind == expected_kind
            assert entry.reason == (reason if short else "")
            assert entry.user == self.users[who]
        assert bool(result.overridden) == bool(short)
        for pk, amount in wanted.items():
            self.expected[pk].committed += amount
        self.overridden |= set(short)
        self.entries += len(wanted)

    @rule(index=LINE, data=st.data())
    def release(self, index, data):
        line, exp = self.line(index), self.expected[self.line(index).pk]
        amount = data.draw(st.integers(min_value=1, max_value=exp.to_liquidate + 50))
        call = lambda: services.credits_release(  # noqa: E731
            user=self.chef, document=self.year, line=line, amount=amount, reason="Marché soldé"
        )
        if amount > exp.to_liquidate:
            self.refused(call)
            return
        entry = call()
        assert (entry.kind, entry.amount) == ("release", -amount)
        exp.committed -= amount
        self.entries += 1

    @rule(index=LINE, data=st.data())
    def liquidate(self, index, data):
        line, exp = self.line(index), self.expected[self.line(index).pk]
        amount = data.draw(st.integers(min_value=1, max_value=exp.to_liquidate + 50))
        call = lambda: services.credits_liquidate(  # noqa: E731
            user=self.chef, document=self.year, line=line.pk, amount=amount
        )
        if amount > exp.to_liquidate:
            self.refused(call)
            return
        entry = call()
        assert (entry.kind, entry.amount) == ("liquidate", amount)
        exp.liquidated += amount
        self.entries += 1

    @rule(index=LINE, data=st.data(), reason=st.sampled_from(["", "  ", "Facture annulée"]))
    def unliquidate(self, index, data, reason):
        line, exp = self.line(index), self.expected[self.line(index).pk]
        amount = data.draw(st.integers(min_value=1, max_value=exp.liquidated + 50))
        call = lambda: services.credits_unliquidate(  # noqa: E731
            user=self.chef, document=self.year, line=line, amount=amount, reason=reason
        )
        if amount > exp.liquidated or not reason.strip():
            self.refused(call)
            return
        entry = call()
        assert (entry.kind, entry.amount, entry.reason) == ("unliquidate", -amount, reason)
        exp.liquidated -= amount
        self.entries += 1

    # --- transfers -------------------------------------------------------------

    def request(self, pair, data) -> Transfer | None:
        """Request a transfer (section head); None when the request is refused."""
        source, to = self.line(pair[0]), self.line(pair[1])
        # The request pre-checks the figures of the line it is given: the current ones,
        # as a view fetching the line would give.
        source.refresh_from_db()
        amount = data.draw(self.amount_around(self.expected[source.pk].available))
        call = lambda: services.transfer_request(  # noqa: E731
            user=self.chef, source=source, target=to, amount=amount, reason="Réallocation"
        )
        if amount > self.expected[source.pk].available:
            transfers_before = Transfer.objects.count()
            self.refused(call)
            assert Transfer.objects.count() == transfers_before
            return None
        transfer = call()
        assert transfer.state == Transfer.State.REQUESTED
        return transfer

    def approve(self, transfer: Transfer) -> None:
        """Approve it (director): refused when the source line, or in a year controlled
        by chapter the chapter the credits leave, has not that much free any more."""
        call = lambda: services.transfer_approve(user=self.directeur, transfer=transfer)  # noqa: E731
        source_chapter = self.chapter_of(transfer.source_id)
        chapter_room = None
        if (
            self.year.control_level == FiscalYear.ControlLevel.CHAPTER
            and source_chapter != self.chapter_of(transfer.target_id)
        ):
            opened, committed = self.chapter_figures(source_chapter)
            chapter_room = opened - committed
        if transfer.amount > self.expected[transfer.source_id].available or (
            chapter_room is not None and transfer.amount > chapter_room
        ):
            error = self.refused(call)
            assert error.code == "credits_short"
            transfer.refresh_from_db()
            assert transfer.state == Transfer.State.REQUESTED
            return
        call()
        entries = LedgerEntry.objects.filter(document_id=transfer.pk, kind__startswith="transfer")
        assert sorted(entries.values_list("budget_line_id", "amount")) == sorted(
            [(transfer.source_id, -transfer.amount), (transfer.target_id, transfer.amount)]
        )
        self.expected[transfer.source_id].opened -= transfer.amount
        self.expected[transfer.target_id].opened += transfer.amount
        self.entries += 2

    @rule(pair=st.sampled_from(PAIRS), data=st.data())
    def transfer_at_once(self, pair, data):
        transfer = self.request(pair, data)
        if transfer is not None:
            self.approve(transfer)

    @rule(target=transfers, pair=st.sampled_from(PAIRS), data=st.data())
    def request_a_transfer_for_later(self, pair, data):
        transfer = self.request(pair, data)
        return multiple() if transfer is None else transfer

    @rule(transfer=consumes(transfers))
    def approve_a_transfer_requested_earlier(self, transfer):
        # Commitments may have spent the source meanwhile: the approval re-checks.
        self.approve(transfer)

    # --- bad input -------------------------------------------------------------

    @rule(
        operation=st.sampled_from(["commit", "release", "liquidate", "transfer"]),
        index=LINE,
        bad=st.sampled_from(BAD_AMOUNTS),
    )
    def refuse_a_bad_amount(self, operation, index, bad):
        line = self.line(index)
        other = self.line((index + 1) % 3)  # another line, of any section
        calls = {
            "commit": lambda: services.credits_commit(
                user=self.directeur,
                document=self.year,
                amounts={line: bad},
                override_reason="Forcé",
            ),
            "release": lambda: services.credits_release(
                user=self.chef, document=self.year, line=line, amount=bad
            ),
            "liquidate": lambda: services.credits_liquidate(
                user=self.chef, document=self.year, line=line, amount=bad
            ),
            "transfer": lambda: services.transfer_request(
                user=self.chef, source=line, target=other, amount=bad, reason="Essai"
            ),
        }
        error = self.refused(calls[operation])
        assert error.code == "amount"

    # --- invariants --------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model_and_with_its_ledger(self):
        if self.year is None:
            return
        rows = {row.pk: row for row in line_availability(fiscal_year=self.year)}
        assert set(rows) == set(self.expected)
        for pk, exp in self.expected.items():
            row = rows[pk]
            assert (row.opened, row.committed, row.liquidated) == (
                exp.opened,
                exp.committed,
                exp.liquidated,
            )
            assert row.available_amount == row.available == row.opened - row.committed
            assert row.to_liquidate_amount == row.committed - row.liquidated
            assert row.committed >= row.liquidated >= 0
            if (
                self.year.control_level == FiscalYear.ControlLevel.LINE
                and pk not in self.overridden
            ):
                assert row.available >= 0, f"{row.code} below zero without an override"
        if self.year.control_level == FiscalYear.ControlLevel.CHAPTER:
            by_chapter = defaultdict(list)
            for pk in self.expected:
                by_chapter[self.chapter_of(pk)].append(pk)
            for chapter, ids in by_chapter.items():
                if not self.overridden & set(ids):
                    room = sum(rows[pk].available for pk in ids)
                    assert room >= 0, f"chapter {chapter} below zero without an override"
        assert LedgerEntry.objects.count() == self.entries
        assert ledger_differences() == []
        assert broken_balances() == []


def test_any_sequence_of_budget_operations_keeps_the_ledger_and_the_totals_in_step(chef, directeur):
    run_state_machine_as_test(
        lambda: LedgerMachine(chef=chef, directeur=directeur),
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: see above
        ),
    )

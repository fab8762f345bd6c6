"""Everything that writes budgets: revisions, transfers, and the credit services
(commit, release, liquidate) that procurement calls.

Each service checks the actor's capability, validates, and writes in one
transaction. A service that reads a balance to decide a write locks the rows it
reads first (budgets.ledger.lock_lines), so that two requests can never take the
same franc twice (DESIGN.md, rule 2).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dsi_finance.errors import ServiceError
from dsi_finance.money import format_xpf, validate_amount
from dsi_finance.roles import perm, require_capability

from .ledger import commit_within_available, lock_lines, post_entries
from .models import (
    BudgetLine,
    BudgetRevision,
    CostCentre,
    FiscalYear,
    Forecast,
    LedgerEntry,
    NatureAccount,
    Project,
    RevisionItem,
    Transfer,
)


class BudgetError(ServiceError):
    """A budget rule refused the operation; the message is for the user, in French."""


class CreditsShortError(BudgetError):
    """The available amount does not cover a commitment."""

    def __init__(self, message: str, *, shortages: list["Shortage"], can_override: bool):
        super().__init__(message, code="credits_short")
        self.shortages = shortages
        self.can_override = can_override


@dataclass(frozen=True)
class Shortage:
    scope: str  # the line's code, or "chapter 011" at chapter level
    requested: int
    available: int


@dataclass
class CommitResult:
    entries: list[LedgerEntry]
    overridden: list[Shortage] = field(default_factory=list)


def _require_year_state(year: FiscalYear, *states: str, action: str) -> None:
    if year.state not in states:
        raise BudgetError(
            _("The fiscal year %(year)s is %(state)s: %(action)s is not possible.")
            % {"year": year.year, "state": year.get_state_display().lower(), "action": action},
            code="year_state",
        )


# ---------------------------------------------------------------------------
# Fiscal years


def fiscal_year_create(*, user, year: int, **settings) -> FiscalYear:
    require_capability(user, "prepare_budget")
    if FiscalYear.objects.filter(year=year).exists():
        raise BudgetError(_("The fiscal year %(year)s already exists.") % {"year": year})
    fiscal_year = FiscalYear(year=year, **settings)
    fiscal_year.full_clean()
    fiscal_year.save()
    return fiscal_year


@transaction.atomic
def fiscal_year_open(*, user, fiscal_year: FiscalYear) -> FiscalYear:
    """Preparation → open: commitments become possible."""
    require_capability(user, "submit_budget")
    fiscal_year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    _require_year_state(fiscal_year, FiscalYear.State.PREPARATION, action=_("opening"))
    fiscal_year.state = FiscalYear.State.OPEN
    fiscal_year.save(update_fields=["state"])
    return fiscal_year


@transaction.atomic
def fiscal_year_close(*, user, fiscal_year: FiscalYear) -> FiscalYear:
    """Open → closed: the year's figures are frozen."""
    require_capability(user, "run_closing")
    fiscal_year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    _require_year_state(fiscal_year, FiscalYear.State.OPEN, action=_("closing"))
    pending = fiscal_year.transfers.filter(state=Transfer.State.REQUESTED).count()
    if pending:
        raise BudgetError(
            ngettext(
                "The fiscal year %(year)s still has %(count)d transfer to decide.",
                "The fiscal year %(year)s still has %(count)d transfers to decide.",
                pending,
            )
            % {"year": fiscal_year.year, "count": pending}
        )
    fiscal_year.state = FiscalYear.State.CLOSED
    fiscal_year.save(update_fields=["state"])
    return fiscal_year


@transaction.atomic
def fiscal_year_set_controls(
    *, user, fiscal_year: FiscalYear, control_level: str, control_mode: str
) -> FiscalYear:
    """Where the available amount is checked (line or chapter) and how (block or warn).

    The IT director decides it: warn mode lets whoever commits go below the
    available amount with a reason, so it is an authorisation in itself.
    """
    require_capability(user, "override_available")
    fiscal_year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    _require_year_state(
        fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("changing the controls"),
    )
    fiscal_year.control_level = control_level
    fiscal_year.control_mode = control_mode
    fiscal_year.full_clean()
    fiscal_year.save(update_fields=["control_level", "control_mode"])
    return fiscal_year


# ---------------------------------------------------------------------------
# Budget lines and revisions


def budget_line_create(
    *,
    user,
    fiscal_year: FiscalYear,
    code: str,
    label: str,
    nature_account: NatureAccount,
    cost_centre: CostCentre,
    project: Project | None = None,
) -> BudgetLine:
    """A new line of the year, with no credits until a revision is voted."""
    require_capability(user, "prepare_budget")
    _require_year_state(
        fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("adding a line"),
    )
    line = BudgetLine(
        fiscal_year=fiscal_year,
        code=code.strip(),
        label=label.strip(),
        section=nature_account.chapter.section,
        nature_account=nature_account,
        cost_centre=cost_centre,
        project=project,
    )
    line.full_clean()
    line.save()
    return line


def revision_create(*, user, fiscal_year: FiscalYear, kind: str) -> BudgetRevision:
    require_capability(user, "prepare_budget")
    _require_year_state(
        fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("preparing a revision"),
    )
    if BudgetRevision.objects.filter(fiscal_year=fiscal_year, kind=kind).exists():
        raise BudgetError(
            _("The %(kind)s %(year)s already exists.") % {"kind": kind, "year": fiscal_year.year}
        )
    revision = BudgetRevision(fiscal_year=fiscal_year, kind=kind, created_by=user)
    revision.full_clean()
    revision.save()
    return revision


def _require_draft(revision: BudgetRevision) -> None:
    if revision.state != BudgetRevision.State.DRAFT:
        raise BudgetError(
            _("The %(revision)s is %(state)s: it can no longer be changed.")
            % {"revision": revision, "state": revision.get_state_display().lower()},
            code="revision_frozen",
        )


def validate_revision_amount(revision: BudgetRevision, amount) -> int:
    """BP: the line's credits (positive); DM: a change, positive or negative, never zero."""
    if revision.is_amending:
        return validate_amount(amount, signed=True, label=_("The change"))
    return validate_amount(amount, label=_("The amount"))


def check_revision_item(revision: BudgetRevision, budget_line: BudgetLine, amount) -> int:
    """The rules of one item of a revision, whatever enters it (revision_item_set: a new
    line, an import, the variance page; revision_items_set: the editor's "save all"): a
    line of the revision's year, and an amount valid for the revision's kind. Returns
    the amount; BudgetError else."""
    if budget_line.fiscal_year_id != revision.fiscal_year_id:
        raise BudgetError(
            _("The line %(code)s belongs to another fiscal year.") % {"code": budget_line.code}
        )
    return validate_revision_amount(revision, amount)


@transaction.atomic
def revision_item_set(
    *,
    user,
    revision: BudgetRevision,
    budget_line: BudgetLine,
    amount: int,
    justification: str = "",
) -> RevisionItem:
    """Enter or change a line's amount (BP) or change (DM) in a draft revision."""
    require_capability(user, "prepare_budget")
    revision = BudgetRevision.objects.select_for_update().get(pk=revision.pk)
    _require_draft(revision)
    amount = check_revision_item(revision, budget_line, amount)
    item = RevisionItem.objects.filter(revision=revision, budget_line=budget_line).first()
    if item is None:
        item = RevisionItem(revision=revision, budget_line=budget_line)
    item.amount = amount
    item.justification = justification.strip()
    item._history_user = user  # who, also outside a web request (commands, imports)
    item.save()
    return item


@transaction.atomic
def revision_item_remove(*, user, revision: BudgetRevision, budget_line: BudgetLine) -> None:
    """Take a line out of a draft revision (the draft is a proposal: nothing is posted yet)."""
    require_capability(user, "prepare_budget")
    revision = BudgetRevision.objects.select_for_update().get(pk=revision.pk)
    _require_draft(revision)
    RevisionItem.objects.filter(revision=revision, budget_line=budget_line).delete()


@dataclass(frozen=True)
class RevisionItemChange:
    """One row of the editor's "save all": the line's new amount (BP) or change (DM)
    and its justification; `amount` None takes the line out of the draft."""

    budget_line: BudgetLine
    amount: int | None
    justification: str = ""


class RevisionItemsError(BudgetError):
    """Rows of a "save all" break the item rules; nothing was saved.

    `by_line` maps each faulty line's id to its French messages, for the editor to
    show them in their rows; `messages` are the same, each prefixed by the line code.
    """

    def __init__(self, by_line: Mapping[int, list[str]], codes: Mapping[int, str]):
        super().__init__(
            [
                _("%(field)s: %(error)s") % {"field": codes[line_id], "error": message}
                for line_id, messages in by_line.items()
                for message in messages
            ],
            code="revision_items",
        )
        self.by_line = dict(by_line)


def revision_items_check(
    *, revision: BudgetRevision, items: Iterable[RevisionItemChange]
) -> dict[int, list[str]]:
    """Every row's breach of the item rules (check_revision_item), by line id, without
    writing: the editor shows them all at once, with its own reading errors."""
    problems: dict[int, list[str]] = {}
    seen: set[int] = set()
    for change in items:
        line = change.budget_line
        if line.pk in seen:
            problems.setdefault(line.pk, []).append(
                _("The line %(code)s is given twice.") % {"code": line.code}
            )
            continue
        seen.add(line.pk)
        if change.amount is None:
            continue
        try:
            check_revision_item(revision, line, change.amount)
        except ServiceError as error:
            problems.setdefault(line.pk, []).extend(error.messages)
    return problems


@dataclass(frozen=True)
class SaveAllCounts:
    """What a grid saved all at once (revision rows, forecasts) changed, in lines."""

    created: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def touched(self) -> int:
        return self.created + self.changed + self.removed


# The names the two grids' callers read; one class, the counts mean the same.
RevisionItemsResult = SaveAllCounts


@transaction.atomic
def revision_items_set(
    *, user, revision: BudgetRevision, items: Iterable[RevisionItemChange]
) -> RevisionItemsResult:
    """Save several rows of a draft revision at once, all or nothing.

    Each row follows the same rules as revision_item_set (check_revision_item); an
    amount of None takes the line out, as revision_item_remove does. One faulty row
    refuses them all with RevisionItemsError (every faulty row's message); a frozen
    revision is refused whole. Rows equal to what is saved are left alone, so that
    the history records only real changes (with their user).
    """
    require_capability(user, "prepare_budget")
    items = list(items)
    # The revision row is locked, as by revision_item_set: a submission, a vote, an
    # import or another "save all" of the same draft waits for this one, so the draft
    # cannot be frozen half-saved nor two sets of rows interleave.
    revision = (
        BudgetRevision.objects.select_for_update().select_related("fiscal_year").get(pk=revision.pk)
    )
    _require_draft(revision)
    problems = revision_items_check(revision=revision, items=items)
    if problems:
        raise RevisionItemsError(
            problems, {change.budget_line.pk: change.budget_line.code for change in items}
        )
    existing = {
        item.budget_line_id: item
        for item in RevisionItem.objects.filter(
            revision=revision, budget_line_id__in=[change.budget_line.pk for change in items]
        )
    }
    counts = {"created": 0, "changed": 0, "removed": 0, "unchanged": 0}
    for change in sorted(items, key=lambda change: change.budget_line.code):
        item = existing.get(change.budget_line.pk)
        if change.amount is None:
            if item is None:
                counts["unchanged"] += 1
            else:
                item._history_user = user
                item.delete()
                counts["removed"] += 1
            continue
        justification = (change.justification or "").strip()
        if item is not None and (item.amount, item.justification) == (
            change.amount,
            justification,
        ):
            counts["unchanged"] += 1
            continue
        if item is None:
            item = RevisionItem(revision=revision, budget_line=change.budget_line)
            counts["created"] += 1
        else:
            counts["changed"] += 1
        item.amount = change.amount
        item.justification = justification
        item._history_user = user  # who, also outside a web request
        item.save()
    return RevisionItemsResult(**counts)


def _cuts_below_committed(revision: BudgetRevision, lines: Mapping[int, BudgetLine]) -> list[str]:
    """A message for every DM change that would leave a line's credits below its commitments."""
    problems = []
    for item in revision.items.select_related("budget_line"):
        line = lines.get(item.budget_line_id) or item.budget_line
        new_opened = line.opened + item.amount
        if item.amount < 0 and new_opened < line.committed:
            problems.append(
                _(
                    "Line %(code)s: cutting %(cut)s would leave %(opened)s of credits, "
                    "below the %(committed)s already committed."
                )
                % {
                    "code": line.code,
                    "cut": format_xpf(-item.amount),
                    "opened": format_xpf(new_opened),
                    "committed": format_xpf(line.committed),
                }
            )
    return problems


def _chapter_cuts_below_committed(
    revision: BudgetRevision, items: list[RevisionItem], lines: Mapping[int, BudgetLine]
) -> list[str]:
    """In a year controlled by chapter, a message for every chapter that the revision's
    changes would leave with less credits than is committed on it (`lines`: the locked
    lines of those chapters)."""
    if revision.fiscal_year.control_level != FiscalYear.ControlLevel.CHAPTER:
        return []
    changes: dict[int, int] = defaultdict(int)
    for item in items:
        changes[lines[item.budget_line_id].nature_account.chapter_id] += item.amount
    problems = []
    for chapter_id, change in changes.items():
        opened, committed = _chapter_figures(lines, chapter_id)
        if change < 0 and opened + change < committed:
            chapter = next(
                line.nature_account.chapter
                for line in lines.values()
                if line.nature_account.chapter_id == chapter_id
            )
            problems.append(
                _(
                    "Chapter %(code)s: this decision would leave %(opened)s of credits, "
                    "below the %(committed)s already committed."
                )
                % {
                    "code": chapter.code,
                    "opened": format_xpf(opened + change),
                    "committed": format_xpf(committed),
                }
            )
    return problems


@transaction.atomic
def revision_submit(*, user, revision: BudgetRevision) -> BudgetRevision:
    """Draft → submitted, by the IT director."""
    require_capability(user, "submit_budget")
    revision = BudgetRevision.objects.select_for_update().get(pk=revision.pk)
    _require_draft(revision)
    if not revision.items.exists():
        raise BudgetError(
            _("The %(revision)s has no line: nothing to submit.") % {"revision": revision}
        )
    problems = _cuts_below_committed(revision, {})
    if problems:
        raise BudgetError(problems, code="below_committed")
    revision.state = BudgetRevision.State.SUBMITTED
    revision.submitted_by = user
    revision.submitted_at = timezone.now()
    revision.save(update_fields=["state", "submitted_by", "submitted_at"])
    return revision


@transaction.atomic
def revision_return_to_draft(*, user, revision: BudgetRevision) -> BudgetRevision:
    """Submitted → draft, when the director sends a proposal back for changes."""
    require_capability(user, "submit_budget")
    revision = BudgetRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.state != BudgetRevision.State.SUBMITTED:
        raise BudgetError(_("Only a submitted revision can be sent back to draft."))
    revision.state = BudgetRevision.State.DRAFT
    revision.save(update_fields=["state"])
    return revision


@transaction.atomic
def revision_vote(
    *, user, revision: BudgetRevision, vote_date: date, vote_reference: str
) -> BudgetRevision:
    """Record the vote and post every line's credits to the ledger, all or nothing.

    The revision row is locked so that it cannot be voted twice; the lines are
    locked so that no commitment slips in between the check of a DM cut against
    what is committed and the entry that cuts.
    """
    require_capability(user, "submit_budget")
    revision = (
        BudgetRevision.objects.select_for_update().select_related("fiscal_year").get(pk=revision.pk)
    )
    if revision.state == BudgetRevision.State.VOTED:
        raise BudgetError(
            _("The %(revision)s is already voted: it is frozen.") % {"revision": revision},
            code="revision_frozen",
        )
    if revision.state != BudgetRevision.State.SUBMITTED:
        raise BudgetError(
            _("The %(revision)s must be submitted before it is voted.") % {"revision": revision}
        )
    _require_year_state(
        revision.fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("voting"),
    )
    position = BudgetRevision.SEQUENCE.index(revision.kind)
    if position > 0:
        previous_kind = BudgetRevision.SEQUENCE[position - 1]
        if not BudgetRevision.objects.filter(
            fiscal_year=revision.fiscal_year_id,
            kind=previous_kind,
            state=BudgetRevision.State.VOTED,
        ).exists():
            raise BudgetError(
                _("The %(kind)s can only be voted after the %(previous)s.")
                % {"kind": revision.kind, "previous": previous_kind},
                code="vote_order",
            )
    vote_reference = (vote_reference or "").strip()
    if not vote_reference or not vote_date:
        raise BudgetError(_("The vote needs its date and its reference."))

    items = list(revision.items.all())
    lines = _lock_controlled_lines(item.budget_line_id for item in items)
    problems = _cuts_below_committed(revision, lines) + _chapter_cuts_below_committed(
        revision, items, lines
    )
    if problems:
        raise BudgetError(problems, code="below_committed")
    post_entries(
        ((lines[item.budget_line_id], LedgerEntry.Kind.OPEN, item.amount) for item in items),
        document=revision,
        user=user,
    )
    revision.state = BudgetRevision.State.VOTED
    revision.vote_date = vote_date
    revision.vote_reference = vote_reference
    revision.voted_by = user
    revision.voted_at = timezone.now()
    revision.save(update_fields=["state", "vote_date", "vote_reference", "voted_by", "voted_at"])
    return revision


# ---------------------------------------------------------------------------
# Transfers


def transfer_request(
    *, user, source: BudgetLine, target: BudgetLine, amount: int, reason: str
) -> Transfer:
    """Ask to move credits from one line to another of the same year and section."""
    require_capability(user, "request_transfer")
    amount = validate_amount(amount)
    if source.pk == target.pk:
        raise BudgetError(_("A transfer moves credits between two different lines."))
    if source.fiscal_year_id != target.fiscal_year_id:
        raise BudgetError(
            _(
                "A transfer stays within one fiscal year: %(source)s and %(target)s are in different years."
            )
            % {"source": source.code, "target": target.code},
            code="transfer_scope",
        )
    if source.section != target.section:
        raise BudgetError(
            _(
                "A transfer stays within one section: operating and investment credits cannot be mixed."
            ),
            code="transfer_scope",
        )
    if not (reason or "").strip():
        raise BudgetError(_("A transfer needs a reason."))
    _require_year_state(
        source.fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("a transfer"),
    )
    if source.available < amount:
        raise _transfer_short(source, amount)
    transfer = Transfer(
        fiscal_year_id=source.fiscal_year_id,
        source=source,
        target=target,
        amount=amount,
        reason=reason.strip(),
        requested_by=user,
    )
    transfer.full_clean()
    transfer.save()
    return transfer


def _transfer_short(source: BudgetLine, amount: int) -> BudgetError:
    return BudgetError(
        _("Line %(code)s has %(available)s available: it cannot give %(amount)s.")
        % {
            "code": source.code,
            "available": format_xpf(source.available),
            "amount": format_xpf(amount),
        },
        code="credits_short",
    )


def _decide(transfer: Transfer) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.state != Transfer.State.REQUESTED:
        raise BudgetError(
            _("This transfer is already %(state)s.")
            % {"state": transfer.get_state_display().lower()}
        )
    return transfer


@transaction.atomic
def transfer_approve(*, user, transfer: Transfer, note: str = "") -> Transfer:
    """Post the transfer: out of the source line, into the target line, under both locks
    (and, in a year controlled by chapter, the locks of both chapters: credits leaving
    a chapter must be free in the chapter too)."""
    require_capability(user, "approve_transfer")
    transfer = _decide(transfer)
    lines = _lock_controlled_lines([transfer.source_id, transfer.target_id])
    source, target = lines[transfer.source_id], lines[transfer.target_id]
    _require_year_state(
        source.fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("a transfer"),
    )
    if source.available < transfer.amount:
        raise _transfer_short(source, transfer.amount)
    chapter = source.nature_account.chapter
    if (
        source.fiscal_year.control_level == FiscalYear.ControlLevel.CHAPTER
        and chapter.pk != target.nature_account.chapter_id
    ):
        opened, committed = _chapter_figures(lines, chapter.pk)
        if opened - committed < transfer.amount:
            raise BudgetError(
                _("Chapter %(code)s has %(available)s available: it cannot give %(amount)s.")
                % {
                    "code": chapter.code,
                    "available": format_xpf(opened - committed),
                    "amount": format_xpf(transfer.amount),
                },
                code="credits_short",
            )
    post_entries(
        [
            (source, LedgerEntry.Kind.TRANSFER_OUT, -transfer.amount),
            (target, LedgerEntry.Kind.TRANSFER_IN, transfer.amount),
        ],
        document=transfer,
        user=user,
        reason=transfer.reason,
    )
    transfer.state = Transfer.State.APPROVED
    transfer.decided_by = user
    transfer.decided_at = timezone.now()
    transfer.decision_note = note.strip()
    transfer.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    return transfer


@transaction.atomic
def transfer_reject(*, user, transfer: Transfer, note: str) -> Transfer:
    require_capability(user, "approve_transfer")
    if not (note or "").strip():
        raise BudgetError(_("Say why the transfer is rejected."))
    transfer = _decide(transfer)
    transfer.state = Transfer.State.REJECTED
    transfer.decided_by = user
    transfer.decided_at = timezone.now()
    transfer.decision_note = note.strip()
    transfer.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    return transfer


@transaction.atomic
def transfer_cancel(*, user, transfer: Transfer) -> Transfer:
    """The requester withdraws a transfer that is not decided yet."""
    require_capability(user, "request_transfer")
    transfer = _decide(transfer)
    transfer.state = Transfer.State.CANCELLED
    transfer.decided_by = user
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["state", "decided_by", "decided_at"])
    return transfer


# ---------------------------------------------------------------------------
# Credits: what procurement calls


def _chapter_lines(lines: Mapping[int, BudgetLine]) -> list[int]:
    """Every line sharing a year and chapter with these lines (chapter-level control)."""
    keys = {(line.fiscal_year_id, line.nature_account.chapter_id) for line in lines.values()}
    ids = set()
    for year_id, chapter_id in keys:
        ids.update(
            BudgetLine.objects.filter(
                fiscal_year_id=year_id, nature_account__chapter_id=chapter_id
            ).values_list("pk", flat=True)
        )
    return sorted(ids)


def _lock_controlled_lines(line_ids: Iterable[int]) -> dict[int, BudgetLine]:
    """Lock the lines whose credits an operation checks: the lines themselves or, in a
    year controlled by chapter, every line of their chapters (their credits are pooled).

    All in one lock_lines call, so in the global (id) order: locking the lines first
    and their chapters next would let two operations on one chapter deadlock. Unknown
    ids are left out of the result.
    """
    ids = sorted(set(line_ids))
    probe = BudgetLine.objects.select_related("fiscal_year", "nature_account").in_bulk(ids)
    pooled = any(
        line.fiscal_year.control_level == FiscalYear.ControlLevel.CHAPTER for line in probe.values()
    )
    lines = lock_lines(_chapter_lines(probe) if pooled else ids)
    if not pooled and any(
        line.fiscal_year.control_level == FiscalYear.ControlLevel.CHAPTER for line in lines.values()
    ):
        # The year switched to chapter control in between (rare): lock the rest too.
        lines = lock_lines(_chapter_lines(lines))
    return lines


def _chapter_figures(lines: Mapping[int, BudgetLine], chapter_id: int) -> tuple[int, int]:
    """(opened, committed) of a chapter, summed over its lines among `lines`."""
    members = [line for line in lines.values() if line.nature_account.chapter_id == chapter_id]
    return sum(line.opened for line in members), sum(line.committed for line in members)


def _shortages(
    lines: Mapping[int, BudgetLine], requested: Mapping[int, int], level: str
) -> dict[int, Shortage]:
    """The requested lines whose line (or chapter) lacks credits, with the figures."""
    short: dict[int, Shortage] = {}
    if level == FiscalYear.ControlLevel.CHAPTER:
        by_chapter: dict[int, list[int]] = defaultdict(list)
        for line in lines.values():
            by_chapter[line.nature_account.chapter_id].append(line.pk)
        for _chapter_id, ids in by_chapter.items():
            wanted = sum(requested.get(pk, 0) for pk in ids)
            if not wanted:
                continue
            available = sum(lines[pk].available for pk in ids)
            if wanted > available:
                chapter = lines[ids[0]].nature_account.chapter
                scope = _("chapter %(code)s") % {"code": chapter.code}
                for pk in ids:
                    if requested.get(pk):
                        short[pk] = Shortage(scope, wanted, available)
        return short
    for pk, amount in requested.items():
        if amount > lines[pk].available:
            scope = _("line %(code)s") % {"code": lines[pk].code}
            short[pk] = Shortage(scope, amount, lines[pk].available)
    return short


def _shortage_message(shortages: list[Shortage], *, can_override: bool, mode: str) -> str:
    details = "; ".join(
        _("%(scope)s: %(requested)s requested, %(available)s available")
        % {
            "scope": s.scope,
            "requested": format_xpf(s.requested),
            "available": format_xpf(s.available),
        }
        for s in dict.fromkeys(shortages)
    )
    message = _("The available amount is short (%(details)s).") % {"details": details}
    if mode == FiscalYear.ControlMode.WARN:
        return message + " " + _("Confirm with a reason to commit anyway.")
    if can_override:
        return message + " " + _("As IT director, you may override it with a written reason.")
    return message + " " + _("Only the IT director may override it, with a written reason.")


@transaction.atomic
def credits_commit(
    *,
    user,
    document: Model,
    amounts: Mapping[BudgetLine | int, int],
    override_reason: str = "",
) -> CommitResult:
    """Check the available amount and commit credits for a document, in one transaction.

    `amounts` maps lines (or their ids) to the amount to commit on each. A
    one-line commitment that fits under line-level control takes the fast path
    (budgets.ledger.commit_within_available: a guarded UPDATE, as safe as the
    lock). Otherwise the lines are locked (all the lines of their chapter at chapter-level control)
    before anything is read, so that concurrent commitments queue up instead of
    both seeing the same available francs. When credits are short: refused
    (CreditsShortError) unless an override reason is given by someone allowed
    to give it (the IT director; anyone committing when the year only warns);
    the overriding entries are of kind `override` and carry the reason.
    """
    requested: dict[int, int] = defaultdict(int)
    for line, amount in amounts.items():
        requested[getattr(line, "pk", line)] += validate_amount(amount)
    if not requested:
        raise BudgetError(_("Nothing to commit."))
    if len(requested) == 1:
        ((line_id, amount),) = requested.items()
        entry = commit_within_available(line_id, amount, document=document, user=user)
        if entry is not None:
            return CommitResult(entries=[entry])
    lines = _lock_controlled_lines(requested)
    if any(pk not in lines for pk in requested):
        raise BudgetError(_("Unknown budget line."))
    years = {lines[pk].fiscal_year for pk in requested}
    if len(years) > 1:
        raise BudgetError(_("A document commits credits of one fiscal year only."))
    (year,) = years
    _require_year_state(year, FiscalYear.State.OPEN, action=_("a commitment"))

    short = _shortages(lines, requested, year.control_level)
    override_reason = (override_reason or "").strip()
    if short:
        may_override = year.control_mode == FiscalYear.ControlMode.WARN or user.has_perm(
            perm("override_available")
        )
        if not (override_reason and may_override):
            raise CreditsShortError(
                _shortage_message(
                    list(short.values()), can_override=may_override, mode=year.control_mode
                ),
                shortages=list(short.values()),
                can_override=may_override,
            )
    movements = [
        (
            lines[pk],
            LedgerEntry.Kind.OVERRIDE if pk in short else LedgerEntry.Kind.COMMIT,
            amount,
        )
        for pk, amount in sorted(requested.items())
    ]
    entries = post_entries(
        movements, document=document, user=user, reason=override_reason if short else ""
    )
    return CommitResult(entries=entries, overridden=list(dict.fromkeys(short.values())))


@transaction.atomic
def credits_release(
    *, user, document: Model, line: BudgetLine | int, amount: int, reason: str = ""
) -> LedgerEntry:
    """Give back committed credits that will not be spent (a cancelled or closed commitment)."""
    amount = validate_amount(amount)
    locked = lock_lines([getattr(line, "pk", line)])
    (line,) = locked.values()
    if amount > line.to_liquidate:
        raise BudgetError(
            _(
                "Line %(code)s: only %(left)s committed remains to liquidate; %(amount)s cannot be released."
            )
            % {
                "code": line.code,
                "left": format_xpf(line.to_liquidate),
                "amount": format_xpf(amount),
            }
        )
    (entry,) = post_entries(
        [(line, LedgerEntry.Kind.RELEASE, -amount)], document=document, user=user, reason=reason
    )
    return entry


@transaction.atomic
def credits_liquidate(*, user, document: Model, line: BudgetLine | int, amount: int) -> LedgerEntry:
    """Turn committed credits into realised spend (an invoice is liquidated)."""
    amount = validate_amount(amount)
    locked = lock_lines([getattr(line, "pk", line)])
    (line,) = locked.values()
    if amount > line.to_liquidate:
        raise BudgetError(
            _(
                "Line %(code)s: %(amount)s to liquidate, but only %(left)s is committed and not yet liquidated."
            )
            % {
                "code": line.code,
                "amount": format_xpf(amount),
                "left": format_xpf(line.to_liquidate),
            },
            code="over_committed",
        )
    (entry,) = post_entries(
        [(line, LedgerEntry.Kind.LIQUIDATE, amount)], document=document, user=user
    )
    return entry


@transaction.atomic
def credits_unliquidate(
    *, user, document: Model, line: BudgetLine | int, amount: int, reason: str
) -> LedgerEntry:
    """Reverse a liquidation (a liquidated invoice is cancelled): the credits are committed again."""
    amount = validate_amount(amount)
    if not (reason or "").strip():
        raise BudgetError(_("Reversing a liquidation needs a reason."))
    locked = lock_lines([getattr(line, "pk", line)])
    (line,) = locked.values()
    if amount > line.liquidated:
        raise BudgetError(
            _("Line %(code)s: only %(liquidated)s is liquidated.")
            % {"code": line.code, "liquidated": format_xpf(line.liquidated)}
        )
    (entry,) = post_entries(
        [(line, LedgerEntry.Kind.UNLIQUIDATE, -amount)], document=document, user=user, reason=reason
    )
    return entry


# ---------------------------------------------------------------------------
# Forecasts (atterrissage), helper "forecasts"


def validate_forecast_amount(amount, *, label: str | None = None) -> int:
    """A forecast is whole francs, zero (the line will not be used) or positive, not absurd."""
    if amount == 0 and isinstance(amount, int) and not isinstance(amount, bool):
        return 0
    return validate_amount(amount, label=label or _("The forecast amount"))


def validate_forecast_month(month) -> int:
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise BudgetError(_("The month must be between 1 and 12."), code="month")
    return month


def _require_forecast_year(fiscal_year: FiscalYear) -> None:
    _require_year_state(
        fiscal_year,
        FiscalYear.State.PREPARATION,
        FiscalYear.State.OPEN,
        action=_("entering forecasts"),
    )


@transaction.atomic
def forecast_set(
    *, user, budget_line: BudgetLine, month: int, amount: int, note: str = ""
) -> Forecast:
    """Enter or change a line's year-end forecast as estimated in `month` (1–12).

    The earlier months' forecasts stay: the latest month is the line's current one.
    Every change keeps who, when and what in the forecast's history.
    """
    require_capability(user, "enter_forecast")
    month = validate_forecast_month(month)
    amount = validate_forecast_amount(
        amount, label=_("The forecast amount of %(code)s") % {"code": budget_line.code}
    )
    # Locking the year serialises the forecast entries of one year: two grids saved
    # at once cannot both create the same (line, month) row.
    fiscal_year = FiscalYear.objects.select_for_update().get(pk=budget_line.fiscal_year_id)
    _require_forecast_year(fiscal_year)
    forecast = Forecast.objects.filter(budget_line=budget_line, month=month).first()
    if forecast is None:
        forecast = Forecast(budget_line=budget_line, month=month)
    forecast.amount = amount
    forecast.note = (note or "").strip()
    forecast.entered_by = user
    forecast._history_user = user  # who, also outside a web request (commands, tasks)
    forecast.full_clean()
    forecast.save()
    return forecast


ForecastsResult = SaveAllCounts


@transaction.atomic
def forecasts_set(
    *, user, fiscal_year: FiscalYear, month: int, amounts: Mapping[int, int | None]
) -> ForecastsResult:
    """Save the forecast grid of a year and month, all or nothing.

    `amounts` maps a budget line id to its forecast; None (a cell left blank) removes
    that month's forecast of the line, if any, so that its previous month's forecast
    is current again. Nothing is lost silently: the grid shows the month's values
    before they are changed, the result counts the removals, and the history keeps
    every created, changed and removed row with its user. Lines absent from
    `amounts` are not touched. Any bad amount refuses the whole grid, with one French
    message per line.
    """
    require_capability(user, "enter_forecast")
    month = validate_forecast_month(month)
    fiscal_year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)  # see forecast_set
    _require_forecast_year(fiscal_year)
    lines = BudgetLine.objects.in_bulk(list(amounts))
    problems = []
    cleaned: dict[int, int | None] = {}
    for line_id, amount in amounts.items():
        line = lines.get(line_id)
        if line is None or line.fiscal_year_id != fiscal_year.pk:
            problems.append(
                _("The line #%(id)s is not a line of %(year)s.")
                % {"id": line_id, "year": fiscal_year.year}
            )
            continue
        if amount is None:
            cleaned[line_id] = None
            continue
        try:
            cleaned[line_id] = validate_forecast_amount(
                amount, label=_("The forecast amount of %(code)s") % {"code": line.code}
            )
        except ServiceError as error:
            problems.extend(error.messages)
    if problems:
        raise BudgetError(problems, code="forecast")
    existing = {
        forecast.budget_line_id: forecast
        for forecast in Forecast.objects.filter(budget_line_id__in=list(cleaned), month=month)
    }
    counts = {"created": 0, "changed": 0, "removed": 0, "unchanged": 0}
    for line_id in sorted(cleaned):
        amount = cleaned[line_id]
        forecast = existing.get(line_id)
        if amount is None:
            if forecast is None:
                counts["unchanged"] += 1
            else:
                forecast._history_user = user
                forecast.delete()
                counts["removed"] += 1
            continue
        if forecast is not None and forecast.amount == amount:
            counts["unchanged"] += 1
            continue
        if forecast is None:
            forecast = Forecast(budget_line_id=line_id, month=month)
            counts["created"] += 1
        else:
            counts["changed"] += 1
        forecast.amount = amount
        forecast.entered_by = user
        forecast._history_user = user
        forecast.save()
    return ForecastsResult(**counts)

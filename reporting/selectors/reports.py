"""What the report and ledger-check pages and the API read."""

from django.db.models import QuerySet

from reporting.models import LedgerCheck, Report


def reports(*, actor=None) -> QuerySet[Report]:
    """Every report, newest first, with its requester: all the download_report holders
    see all of them (the reports are the department's, not the requester's)."""
    return Report.objects.select_related("requested_by").order_by("-requested_at", "-pk")


def ledger_checks(*, actor=None) -> QuerySet[LedgerCheck]:
    """The ledger checks, newest first, with who ran them (empty: the nightly schedule)."""
    return LedgerCheck.objects.select_related("triggered_by").order_by("-started_at", "-pk")


def latest_ledger_check(*, actor=None) -> LedgerCheck | None:
    return ledger_checks(actor=actor).filter(finished_at__isnull=False).first()

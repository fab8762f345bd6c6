"""python manage.py seed_demo: the demo organisation and its budget, idempotent.

It takes a minute or two: each step says what it loaded as it ends (one line per year's
budget, per quarter of purchasing, `-v2` per month), flushed at once so that it shows
live in a pipe (honcho, tee); a summary counts what the database holds. `-v0`: quiet.
"""

import io
from datetime import date

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils import translation
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from budgets.models import FiscalYear
from dsi_finance.demo import DemoProgress, seed_demo_budget, seed_demo_users
from reporting import demo as reporting_demo


class Command(BaseCommand):
    help = (
        "Loads the demo organisation (one user per role), then the demo budget (three fiscal "
        "years). Running it twice creates nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (demo users with a known password!).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=(
                "Load only into an empty database (used by `make run`): the users when there "
                "is none, the budget when there is no fiscal year yet."
            ),
        )

    def handle(self, *args, force: bool, if_empty: bool, verbosity: int, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo crée des utilisateurs au mot de passe connu : il refuse de tourner "
                "avec DEBUG désactivé. Relancez avec DEBUG=1, ou avec --force si c'est voulu."
            )
        if verbosity == 0:
            self.stdout = OutputWrapper(io.StringIO())  # quiet; errors still reach stderr
        self.verbosity = verbosity
        # French, as the screens (the language of the settings, whatever the shell's).
        with translation.override(settings.LANGUAGE_CODE):
            if if_empty and get_user_model().objects.exists():
                self.say(_("Users already exist: demo data not loaded."))
            else:
                self.seed_users()
            if if_empty and FiscalYear.objects.exists():
                self.say(_("Fiscal years already exist: demo budget not loaded."))
            else:
                self.seed_budget()
                self.seed_reports()
            self.say(_("Demo data up to date: %(summary)s.") % {"summary": summary()}, "SUCCESS")

    def say(self, message: str, style: str = "", *, verbosity: int = 1) -> None:
        """One line, flushed at once: the seed shows live even in a pipe (honcho, tee)."""
        if self.verbosity >= verbosity:
            self.stdout.write(getattr(self.style, style)(message) if style else message)
            self.stdout.flush()

    def seed_users(self) -> None:
        result = seed_demo_users()
        for username in result.created:
            self.say(_("User created: %(username)s") % {"username": username}, "SUCCESS")
        for username in result.existing:
            self.say(_("User already there: %(username)s") % {"username": username})

    def seed_budget(self) -> None:
        self.say(_("Loading the demo budget and its purchasing: a minute or two…"))
        result = seed_demo_budget(progress=SeedProgress(self))
        if result is None:
            self.say(
                _(
                    "Demo budget not loaded: it needs the users chef (pilotage) and "
                    "directeur (direction), active."
                )
            )
            return
        for year in result.existing:
            self.say(_("Fiscal year %(year)s already there: left as it is.") % {"year": year})
        if result.created:
            self.say(
                _(
                    "Demo budget created (fiscal years %(years)s): %(lines)s lines, "
                    "%(revisions)s revisions voted, %(transfers)s transfers."
                )
                % {
                    "years": ", ".join(str(year) for year in result.created),
                    "lines": result.lines,
                    "revisions": result.revisions,
                    "transfers": result.transfers,
                },
                "SUCCESS",
            )

    def seed_reports(self) -> None:
        """Last month's monthly execution report, as the schedule builds it on the 1st."""
        for report in reporting_demo.seed_demo_monthly_report():
            params = report.parameters
            values = {
                "month": date_format(date(params["year"], params["month"], 1), "F Y"),
                "format": report.format.upper(),
            }
            if report.status == report.Status.DONE:
                self.say(
                    _("Monthly execution report of %(month)s built (%(format)s).") % values,
                    "SUCCESS",
                )
            else:
                self.say(
                    _("Monthly execution report of %(month)s (%(format)s) not built: %(error)s")
                    % {**values, "error": report.error},
                    "WARNING",
                )


# Months whose end the purchasing lines report at the default verbosity (-v2: each month).
QUARTER_ENDS = (3, 6, 9)
# "%(count)s …" counted in French: COUNTS["lines"] % {"count": 152} (plural by the count).
COUNTS = {
    "years": ngettext_lazy("%(count)s fiscal year", "%(count)s fiscal years", "count"),
    "lines": ngettext_lazy("%(count)s line", "%(count)s lines", "count"),
    "budget_lines": ngettext_lazy("%(count)s budget line", "%(count)s budget lines", "count"),
    "transfers": ngettext_lazy(
        "%(count)s transfer approved", "%(count)s transfers approved", "count"
    ),
    "waiting": ngettext_lazy("%(count)s waiting", "%(count)s waiting", "count"),
    "requests": ngettext_lazy("%(count)s request", "%(count)s requests", "count"),
    "purchase_requests": ngettext_lazy(
        "%(count)s purchase request", "%(count)s purchase requests", "count"
    ),
    "commitments": ngettext_lazy("%(count)s commitment", "%(count)s commitments", "count"),
    "orders": ngettext_lazy("%(count)s order", "%(count)s orders", "count"),
    "receipts": ngettext_lazy("%(count)s receipt", "%(count)s receipts", "count"),
    "invoices": ngettext_lazy("%(count)s invoice", "%(count)s invoices", "count"),
    "suppliers": ngettext_lazy("%(count)s supplier", "%(count)s suppliers", "count"),
    "reports": ngettext_lazy("%(count)s report", "%(count)s reports", "count"),
    "forecasts": ngettext_lazy(
        "Forecasts: %(count)s entered by chef over the last months.",
        "Forecasts: %(count)s entered by chef over the last months.",
        "count",
    ),
}


def counts(**numbers: int) -> str:
    """counts(lines=152, transfers=3): « 152 lignes, 3 virements approuvés »."""
    return ", ".join(COUNTS[name] % {"count": number} for name, number in numbers.items())


class SeedProgress(DemoProgress):
    """The seed's steps, one line each, in French, as they end."""

    def __init__(self, command: Command):
        self.say = command.say
        self.verbosity = command.verbosity

    def budget_year(self, seeded) -> None:
        voted = ngettext("%(revisions)s voted", "%(revisions)s voted", len(seeded.revisions))
        details = [
            counts(lines=seeded.lines),
            voted % {"revisions": get_text_list(list(seeded.revisions), _("and"))},
            counts(transfers=seeded.transfers),
        ]
        if seeded.pending_transfers:
            details.append(counts(waiting=seeded.pending_transfers))
        if seeded.closing:
            details.append(_("closed on 31 December"))
        self.say(
            _("Budget %(year)s: %(details)s.")
            % {"year": seeded.year, "details": ", ".join(details)}
        )

    def purchasing_month(self, month: int, result) -> None:
        if month not in QUARTER_ENDS and self.verbosity < 2:
            return
        self.say(
            _("Purchasing %(year)s up to %(month)s: %(details)s.")
            % {
                "year": result.year,
                "month": date_format(date(result.year, month, 1), "F"),
                "details": counts(
                    requests=result.requests, orders=result.orders, invoices=result.invoices
                ),
            }
        )

    def purchasing(self, result) -> None:
        if result is None:
            self.say(_("Purchasing not played: it needs the demo users and an open fiscal year."))
        elif result.skipped == "existing":
            self.say(_("Purchasing %(year)s already there: left as it is.") % {"year": result.year})
        elif result.skipped:
            self.say(
                _("Purchasing %(year)s not played: the fiscal year is closed.")
                % {"year": result.year}
            )
        else:
            details = counts(
                requests=result.requests,
                commitments=result.commitments,
                orders=result.orders,
                receipts=result.receipts,
                invoices=result.invoices,
                suppliers=result.suppliers,
            )
            self.say(
                _("Purchasing %(year)s: %(details)s.") % {"year": result.year, "details": details}
            )

    def forecasts(self, entered: int | None) -> None:
        if entered:
            self.say(COUNTS["forecasts"] % {"count": entered})


def summary() -> str:
    """What the database holds now, counted there (whoever loaded it: the reports too)."""

    def number(label: str) -> int:
        return apps.get_model(label).objects.count()

    return counts(
        years=number("budgets.FiscalYear"),
        budget_lines=number("budgets.BudgetLine"),
        purchase_requests=number("procurement.PurchaseRequest"),
        orders=number("procurement.PurchaseOrder"),
        invoices=number("procurement.Invoice"),
        reports=number("reporting.Report"),
    )

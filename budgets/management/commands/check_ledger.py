"""python manage.py check_ledger: prove the cached totals equal the ledger (DESIGN.md, rule 3).

Recomputes every line's opened, committed and liquidated amounts from its ledger
entries, and every entry's "available after" from the running sum; prints every
difference and exits with status 1 when there is one (0 when all agree).
"""

import time

from django.core.management.base import BaseCommand, CommandError

from budgets.models import BudgetLine, LedgerEntry
from budgets.selectors import broken_balances, ledger_differences


class Command(BaseCommand):
    help = "Recompute every budget line's totals from the ledger and report the differences."

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-balances",
            action="store_true",
            help="Do not check each entry's running available amount (faster).",
        )

    def handle(self, *args, skip_balances=False, **options):
        started = time.perf_counter()
        differences = ledger_differences()
        for diff in differences:
            figure = BudgetLine._meta.get_field(diff.figure).verbose_name
            self.stdout.write(
                f"Ligne {diff.code} (id {diff.line_id}) : {figure} en cache {diff.cached}, "
                f"grand livre {diff.ledger}, écart {diff.cached - diff.ledger}"
            )
        broken = [] if skip_balances else broken_balances()
        for entry in broken:
            self.stdout.write(
                f"Écriture {entry.pk} (ligne {entry.budget_line.code}) : disponible après "
                f"{entry.available_after} ne suit pas le cumul du grand livre ({entry.running})"
            )
        seconds = time.perf_counter() - started
        lines = BudgetLine.objects.count()
        entries = LedgerEntry.objects.count()
        if differences or broken:
            raise CommandError(
                f"{len(differences)} total(s) et {len(broken)} solde(s) en écart "
                f"sur {lines} lignes et {entries} écritures ({seconds:.1f} s)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Grand livre conforme : {lines} lignes, {entries} écritures vérifiées "
                f"en {seconds:.1f} s."
            )
        )

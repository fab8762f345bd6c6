"""python manage.py seed_demo: the demo organisation and its budget, idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from budgets.models import FiscalYear
from dsi_finance.demo import seed_demo_budget, seed_demo_users


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

    def handle(self, *args, force: bool, if_empty: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo crée des utilisateurs au mot de passe connu : il refuse de tourner "
                "avec DEBUG désactivé. Relancez avec DEBUG=1, ou avec --force si c'est voulu."
            )
        if if_empty and get_user_model().objects.exists():
            self.stdout.write(
                "Des utilisateurs existent déjà : données de démonstration non chargées."
            )
        else:
            self.seed_users()
        if if_empty and FiscalYear.objects.exists():
            self.stdout.write("Des exercices existent déjà : budget de démonstration non chargé.")
        else:
            self.seed_budget()
        self.stdout.write(self.style.SUCCESS("Données de démonstration à jour."))

    def seed_users(self) -> None:
        result = seed_demo_users()
        for username in result.created:
            self.stdout.write(self.style.SUCCESS(f"Utilisateur créé : {username}"))
        for username in result.existing:
            self.stdout.write(f"Utilisateur déjà présent : {username}")

    def seed_budget(self) -> None:
        result = seed_demo_budget()
        if result is None:
            self.stdout.write(
                "Budget de démonstration non chargé : il faut les utilisateurs chef (pilotage) "
                "et directeur (direction), actifs."
            )
            return
        for year in result.existing:
            self.stdout.write(f"Exercice {year} déjà présent : laissé tel quel.")
        if result.created:
            years = ", ".join(str(year) for year in result.created)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Budget de démonstration créé (exercices {years}) : {result.lines} lignes, "
                    f"{result.revisions} révisions votées, {result.transfers} virements."
                )
            )

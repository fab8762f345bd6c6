"""python manage.py seed_demo: the demo organisation, idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dsi_finance.demo import seed_demo_users


class Command(BaseCommand):
    help = (
        "Loads the demo organisation (one user per role). Running it twice creates nothing twice."
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
            help="Do nothing when the database already has users (used by `make run`).",
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
            return
        result = seed_demo_users()
        for username in result.created:
            self.stdout.write(self.style.SUCCESS(f"Utilisateur créé : {username}"))
        for username in result.existing:
            self.stdout.write(f"Utilisateur déjà présent : {username}")
        self.stdout.write(self.style.SUCCESS("Données de démonstration à jour."))

"""The demo organisation: one user per role (later issues add budgets and activity)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .roles import Role, sync_role_groups


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: Role


DEMO_USERS = (
    DemoUser("chef", "Marie", "Wamytan", Role.PILOTAGE),
    DemoUser("acheteur", "Jean", "Tein", Role.ACHAT),
    DemoUser("comptable", "Léa", "Naisseline", Role.COMPTABILITE),
    DemoUser("directeur", "Paul", "Gorodey", Role.DIRECTION),
    DemoUser("controleur", "Sophie", "Lafleur", Role.CONTROLE),
)
DEMO_EMAIL_DOMAIN = "dsi-finance.example.nc"


@dataclass
class SeedResult:
    created: list[str]
    existing: list[str]


@transaction.atomic
def seed_demo_users(*, password: str | None = None) -> SeedResult:
    """Creates the missing demo users; existing ones keep their password. Idempotent."""
    sync_role_groups()
    password = password or settings.DEMO_PASSWORD
    User = get_user_model()
    result = SeedResult(created=[], existing=[])
    for demo in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@{DEMO_EMAIL_DOMAIN}",
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            result.created.append(demo.username)
        else:
            result.existing.append(demo.username)
        user.groups.add(Group.objects.get(name=demo.role))
    return result

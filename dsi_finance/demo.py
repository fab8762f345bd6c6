"""The demo organisation: one user per role, then the demo budget (budgets.demo)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from budgets import demo as budgets_demo
from procurement import demo as procurement_demo
from reporting import demo as reporting_demo

from .roles import Role, perm, sync_role_groups


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


# Last year's purchasing: 40 % as many requests as this year's, for as much money.
LAST_YEAR_VOLUME = 0.4

# The demo budget is prepared by the section head and voted by the IT director.
BUDGET_ACTORS = {
    "chef": ("prepare_budget", "request_transfer", "run_closing"),
    "directeur": ("submit_budget", "approve_transfer"),
}


def demo_budget_actors() -> tuple | None:
    """(chef, directeur) when both exist, are active and still hold what the budget needs."""
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=BUDGET_ACTORS, is_active=True)
    }
    for username, capabilities in BUDGET_ACTORS.items():
        user = users.get(username)
        if user is None or not all(user.has_perm(perm(c)) for c in capabilities):
            return None
    return users["chef"], users["directeur"]


class DemoProgress:
    """What the demo seed tells as it goes, step by step (seed_demo prints it); here,
    nothing. A minute or two of seeding is long without a word."""

    def budget_year(self, seeded: budgets_demo.YearSeeded) -> None:
        """A year's budget is voted (a past year is closed after its purchasing)."""

    def purchasing_month(self, month: int, counts: procurement_demo.ProcurementSeedResult) -> None:
        """A year's purchasing is played up to the end of `month`: the counts so far."""

    def purchasing(self, result: procurement_demo.ProcurementSeedResult | None) -> None:
        """A year's purchasing is played (None: no actors or no open year)."""

    def forecasts(self, entered: int | None) -> None:
        """Pilotage's forecasts are entered (None: nothing to do)."""


def seed_demo_budget(
    *, today=None, progress: DemoProgress | None = None
) -> budgets_demo.BudgetSeedResult | None:
    """The demo budget through the budget services, with chef and directeur as actors.

    None when the actors are missing (seed the users first); years that already
    exist are left alone (see budgets.demo.seed_demo_budget). Last year gets its
    purchasing (fewer requests: LAST_YEAR_VOLUME) before it is closed, so that the
    dashboard's "last year at the same date" has figures; the year before stays
    without execution. `progress` hears of each step as it ends.
    """
    actors = demo_budget_actors()
    if actors is None:
        return None
    preparer, director = actors
    current = (today or timezone.localdate()).year
    progress = progress or DemoProgress()

    def last_years_purchasing(fiscal_year) -> None:
        # Last year's purchasing, played while the year is open, before its closing.
        if fiscal_year.year == current - 1:
            progress.purchasing(
                procurement_demo.seed_demo_procurement(
                    today=today,
                    fiscal_year=fiscal_year.year,
                    volume=LAST_YEAR_VOLUME,
                    on_month=progress.purchasing_month,
                )
            )

    result = budgets_demo.seed_demo_budget(
        preparer=preparer,
        director=director,
        today=today,
        before_closing=last_years_purchasing,
        on_year=progress.budget_year,
    )
    # Then this year's purchasing, and pilotage's forecasts, once a year.
    progress.purchasing(
        procurement_demo.seed_demo_procurement(today=today, on_month=progress.purchasing_month)
    )
    progress.forecasts(reporting_demo.seed_demo_forecasts(today=today))
    return result

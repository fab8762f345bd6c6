"""Shared fixtures: a fixed cast of users, one per role, and service guards."""

import os

import pytest
from django.db import connection

from dsi_finance.roles import Role
from tests.factories import UserFactory

# The cast: one person per role, the same usernames as the demo.
CAST = {
    Role.PILOTAGE: "chef",
    Role.ACHAT: "acheteur",
    Role.COMPTABILITE: "comptable",
    Role.DIRECTION: "directeur",
    Role.CONTROLE: "controleur",
}


def _cast_member(role: Role):
    @pytest.fixture
    def member(db):
        return UserFactory(username=CAST[role], roles=[role])

    member.__doc__ = f"`{CAST[role]}`, who holds the role {role.value}."
    return member


chef = _cast_member(Role.PILOTAGE)
acheteur = _cast_member(Role.ACHAT)
comptable = _cast_member(Role.COMPTABILITE)
directeur = _cast_member(Role.DIRECTION)
controleur = _cast_member(Role.CONTROLE)


@pytest.fixture
def sans_role(db):
    """A valid account that holds no role: it may log in, and do nothing else."""
    return UserFactory(username="sansrole")


@pytest.fixture
def cast(chef, acheteur, comptable, directeur, controleur) -> dict:
    """Every role's user, by role."""
    return {
        Role.PILOTAGE: chef,
        Role.ACHAT: acheteur,
        Role.COMPTABILITE: comptable,
        Role.DIRECTION: directeur,
        Role.CONTROLE: controleur,
    }


@pytest.fixture
def client_as(client):
    """client_as(user) -> the test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


def skip_unless(condition: bool, reason: str) -> None:
    """Skips with a stated reason; in CI (CI_REQUIRE_ALL=1) a missing service fails instead,
    so that a green CI always means every test ran."""
    if condition:
        return
    if os.environ.get("CI_REQUIRE_ALL") == "1":
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_only():
    """Locks and triggers need the real PostgreSQL (CI has it); skipped on SQLite."""
    skip_unless(
        connection.vendor == "postgresql",
        "needs PostgreSQL: set DATABASE_URL=postgres://… (CI does)",
    )


def broker_url() -> str:
    """CI's real broker. Each xdist worker takes its own Redis database, so that a worker
    started by one test process never consumes the messages of another's."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if url.startswith("redis://") and worker.startswith("gw"):
        server = url.removeprefix("redis://").split("/", 1)[0]
        url = f"redis://{server}/{int(worker[2:]) + 1}"
    return url


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create and log in many users: a fast hasher keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttling counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

"""factory_boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dsi_finance.roles import sync_role_groups

TEST_PASSWORD = "mot-de-passe-de-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"utilisateur{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.nc")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=["pilotage"]) puts the user in those role groups."""
        if create and extracted:
            # Transactional tests flush the tables, and with them the groups that the
            # data migration created: make sure they exist, with their capabilities.
            if Group.objects.filter(name__in=extracted).count() < len(set(extracted)):
                sync_role_groups()
            self.groups.add(*Group.objects.filter(name__in=extracted))


# --- Budgets ---------------------------------------------------------------


class FiscalYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "budgets.FiscalYear"
        django_get_or_create = ("year",)

    year = 2026
    state = "open"


class ChapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "budgets.Chapter"
        django_get_or_create = ("code",)

    code = "011"
    label = "Charges à caractère général"
    section = "F"


class NatureAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "budgets.NatureAccount"
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: f"6{n:04d}")
    label = factory.Sequence(lambda n: f"Compte de test {n}")
    chapter = factory.SubFactory(ChapterFactory)


class CostCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "budgets.CostCentre"
        django_get_or_create = ("code",)

    code = "INFRA"
    label = "Infrastructures et exploitation"


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "budgets.Project"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PRJ-{n:03d}")
    label = factory.Sequence(lambda n: f"Projet {n}")


class BudgetLineFactory(factory.django.DjangoModelFactory):
    """A line with no credits: use `fund()` to vote some through the real services."""

    class Meta:
        model = "budgets.BudgetLine"

    fiscal_year = factory.SubFactory(FiscalYearFactory)
    code = factory.Sequence(lambda n: f"L{n:05d}")
    label = factory.Sequence(lambda n: f"Ligne de test {n}")
    nature_account = factory.SubFactory(NatureAccountFactory)
    section = factory.LazyAttribute(lambda line: line.nature_account.chapter.section)
    cost_centre = factory.SubFactory(CostCentreFactory)


def fund(amounts: dict, *, kind: str = "BP", user=None, vote_reference: str = "Délib. test"):
    """Vote credits on lines through the real services: {line: amount} -> the voted revision.

    Creates the year's revision of `kind` if needed; `user` must hold prepare_budget and
    submit_budget (a superuser is made when none is given).
    """
    import datetime

    from budgets import services
    from budgets.models import BudgetRevision

    if user is None:
        user = get_user_model().objects.filter(username="fund-admin").first() or (
            get_user_model().objects.create_superuser("fund-admin", "fund@example.nc", "x")
        )
    year = next(iter(amounts)).fiscal_year
    revision = BudgetRevision.objects.filter(fiscal_year=year, kind=kind).first()
    if revision is None:
        revision = services.revision_create(user=user, fiscal_year=year, kind=kind)
    for line, amount in amounts.items():
        services.revision_item_set(user=user, revision=revision, budget_line=line, amount=amount)
    services.revision_submit(user=user, revision=revision)
    services.revision_vote(
        user=user,
        revision=revision,
        vote_date=datetime.date(year.year, 1, 15),
        vote_reference=vote_reference,
    )
    for line in amounts:
        line.refresh_from_db()
    return revision

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

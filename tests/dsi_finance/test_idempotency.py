"""A creation sent twice records once: run_once, the form token and the API's
Idempotency-Key header (dsi_finance/idempotency.py)."""

import threading
import time
import uuid

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import BadRequest
from django.db import connection, transaction
from django.template import Context, Template
from django.test import RequestFactory
from rest_framework import serializers, viewsets
from rest_framework.test import APIRequestFactory, force_authenticate

from dsi_finance.idempotency import (
    FORM_TOKEN_FIELD,
    IdempotencyKeyError,
    IdempotentCreateMixin,
    new_form_token,
    once_from_form,
    run_once,
)
from dsi_finance.models import IdempotencyKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Recorder:
    """A `create` that counts its calls and makes a group (any model will do)."""

    def __init__(self, prefix: str = "groupe"):
        self.prefix = prefix
        self.calls = 0

    def __call__(self) -> Group:
        self.calls += 1
        return Group.objects.create(name=f"{self.prefix}-{uuid.uuid4().hex[:8]}")


def groups(prefix: str = "groupe") -> int:
    return Group.objects.filter(name__startswith=f"{prefix}-").count()


# --- run_once ------------------------------------------------------------------------


def test_the_same_key_twice_creates_once_and_returns_the_first_object(acheteur):
    create = Recorder()
    first, first_created = run_once(user=acheteur, scope="test", key="k-1", create=create)
    again, again_created = run_once(user=acheteur, scope="test", key="k-1", create=create)
    assert (first_created, again_created) == (True, False)
    assert again == first
    assert create.calls == 1
    assert groups() == 1
    key = IdempotencyKey.objects.get()
    assert (key.user, key.scope, key.key, key.object_id) == (acheteur, "test", "k-1", first.pk)
    assert key.content_type.model_class() is Group


def test_another_key_creates_another_object(acheteur):
    create = Recorder()
    one, _ = run_once(user=acheteur, scope="test", key="k-1", create=create)
    two, created = run_once(user=acheteur, scope="test", key="k-2", create=create)
    assert created is True
    assert one != two
    assert groups() == 2


def test_keys_of_different_users_or_scopes_are_independent(acheteur, comptable):
    create = Recorder()
    mine, _ = run_once(user=acheteur, scope="test", key="same", create=create)
    theirs, theirs_created = run_once(user=comptable, scope="test", key="same", create=create)
    other_scope, scope_created = run_once(user=acheteur, scope="other", key="same", create=create)
    assert theirs_created is True and scope_created is True
    assert len({mine.pk, theirs.pk, other_scope.pk}) == 3
    assert create.calls == 3
    assert IdempotencyKey.objects.count() == 3


def test_a_failing_creation_records_no_key_and_a_retry_creates(acheteur):
    def fail():
        Group.objects.create(name="groupe-avorte")
        raise ValueError("refusé")

    with pytest.raises(ValueError):
        run_once(user=acheteur, scope="test", key="k-1", create=fail)
    assert IdempotencyKey.objects.count() == 0
    assert not Group.objects.filter(name="groupe-avorte").exists()

    create = Recorder()
    obj, created = run_once(user=acheteur, scope="test", key="k-1", create=create)
    assert created is True
    assert IdempotencyKey.objects.get().object_id == obj.pk


def test_a_failing_creation_leaves_the_callers_transaction_usable(acheteur):
    def fail():
        raise ValueError("refusé")

    with transaction.atomic():
        with pytest.raises(ValueError):
            run_once(user=acheteur, scope="test", key="k-1", create=fail)
        _obj, created = run_once(user=acheteur, scope="test", key="k-2", create=Recorder())
    assert created is True
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k-2"]


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, None])
def test_an_empty_or_overlong_key_is_refused_and_nothing_is_created(acheteur, key):
    create = Recorder()
    with pytest.raises(IdempotencyKeyError) as raised:
        run_once(user=acheteur, scope="test", key=key, create=create)
    assert raised.value.code == "idempotency_key"
    assert create.calls == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_key_of_two_hundred_characters_is_accepted(acheteur):
    _obj, created = run_once(user=acheteur, scope="test", key="x" * 200, create=Recorder())
    assert created is True


# --- Concurrency (PostgreSQL) ----------------------------------------------------------

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_creations_with_one_key_record_one_object(postgres_only):
    user = UserFactory(username="concurrent")
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    calls = []

    def create() -> Group:
        calls.append(1)
        group = Group.objects.create(name=f"course-{uuid.uuid4().hex[:8]}")
        time.sleep(0.2)  # hold the key's row while the others arrive
        return group

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            obj, created = run_once(user=user, scope="race", key="la-cle", create=create)
            with lock:
                results.append((obj.pk, created))
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    assert errors == []
    assert len(results) == THREADS
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert len(calls) == 1
    assert Group.objects.filter(name__startswith="course-").count() == 1
    assert IdempotencyKey.objects.filter(scope="race").count() == 1


# --- Forms --------------------------------------------------------------------------------


def test_the_form_token_tag_renders_a_fresh_hidden_token_each_time():
    template = Template("{% load idempotency %}{% form_token %}")
    first = template.render(Context())
    second = template.render(Context())
    assert f'type="hidden" name="{FORM_TOKEN_FIELD}"' in first
    assert first != second
    assert len(new_form_token()) == 32


def form_post(user, data):
    request = RequestFactory().post("/formulaire/", data)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_form_posted_twice_with_its_token_records_once_with_an_info_message(acheteur):
    create = Recorder()
    token = new_form_token()
    first, first_created = once_from_form(
        form_post(acheteur, {FORM_TOKEN_FIELD: token}), "form", create
    )
    request = form_post(acheteur, {FORM_TOKEN_FIELD: token})
    again, again_created = once_from_form(request, "form", create)
    assert (first_created, again_created) == (True, False)
    assert again == first
    assert create.calls == 1
    assert groups() == 1
    notes = list(get_messages(request))
    assert len(notes) == 1
    assert notes[0].level_tag == "info"
    assert str(first) in str(notes[0])


def test_a_form_without_token_just_creates(acheteur):
    create = Recorder()
    once_from_form(form_post(acheteur, {}), "form", create)
    once_from_form(form_post(acheteur, {}), "form", create)
    assert create.calls == 2
    assert IdempotencyKey.objects.count() == 0


def test_a_tampered_form_token_is_a_bad_request_and_creates_nothing(acheteur):
    create = Recorder()
    with pytest.raises(BadRequest):
        once_from_form(form_post(acheteur, {FORM_TOKEN_FIELD: "x" * 300}), "form", create)
    assert create.calls == 0


# --- API ------------------------------------------------------------------------------------


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ("id", "name")


class GroupViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """A throwaway viewset: the mixin on a plain ModelViewSet."""

    serializer_class = GroupSerializer
    queryset = Group.objects.order_by("pk")
    permission_classes = ()
    created = 0

    def perform_create(self, serializer):
        type(self).created += 1
        serializer.save()


def api_post(user, data, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    request = APIRequestFactory().post("/api/groupes/", data, format="json", **headers)
    force_authenticate(request, user=user)
    view = GroupViewSet.as_view({"post": "create"}, basename="test-group")
    return view(request)


def test_the_api_creates_once_per_key_first_201_then_200_with_the_same_object(acheteur):
    GroupViewSet.created = 0
    first = api_post(acheteur, {"name": "groupe-api"}, key="cle-api-1")
    again = api_post(acheteur, {"name": "groupe-api"}, key="cle-api-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.data == first.data
    assert again["Idempotent-Replayed"] == "true"
    assert GroupViewSet.created == 1
    assert Group.objects.filter(name="groupe-api").count() == 1
    assert IdempotencyKey.objects.get().scope == "test-group"


def test_the_api_replays_even_a_body_that_would_no_longer_validate(acheteur):
    first = api_post(acheteur, {"name": "groupe-api"}, key="cle")
    again = api_post(acheteur, {"name": ""}, key="cle")
    assert again.status_code == 200
    assert again.data["id"] == first.data["id"]


def test_the_api_without_the_header_creates_each_time(acheteur):
    assert api_post(acheteur, {"name": "groupe-a"}).status_code == 201
    assert api_post(acheteur, {"name": "groupe-b"}).status_code == 201
    assert IdempotencyKey.objects.count() == 0


def test_the_api_answers_an_invalid_body_400_and_records_no_key(acheteur):
    response = api_post(acheteur, {"name": ""}, key="cle")
    assert response.status_code == 400
    assert IdempotencyKey.objects.count() == 0
    retry = api_post(acheteur, {"name": "groupe-corrige"}, key="cle")
    assert retry.status_code == 201


def test_the_api_refuses_an_overlong_key_with_a_message(acheteur):
    response = api_post(acheteur, {"name": "groupe-x"}, key="k" * 201)
    assert response.status_code == 400
    assert "200" in str(response.data["detail"])
    assert not Group.objects.filter(name="groupe-x").exists()


def test_the_same_key_from_two_users_creates_two_objects(acheteur, comptable):
    one = api_post(acheteur, {"name": "groupe-1"}, key="partagee")
    two = api_post(comptable, {"name": "groupe-2"}, key="partagee")
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.data["id"] != two.data["id"]

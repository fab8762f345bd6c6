"""A creation sent twice records once (DESIGN.md, rule 4).

Clients name a creation with a key: the API's `Idempotency-Key` header, or the
hidden token a create form carries (`{% form_token %}`). `run_once` records the
key and the object in one transaction; the same (user, scope, key) again gets
the first object back instead of a second one.

How the race is settled: the key row (unique on user, scope, key) is inserted
first, inside a savepoint, then `create()` runs and the row is completed with
the object's type and id, all in the caller's transaction. Two concurrent
creations with one key both try the insert; PostgreSQL makes the second wait on
the unique index until the first commits, then raises IntegrityError in the
loser's savepoint: the loser never runs `create()` (so it cannot trip over the
winner's effects, a number taken or credits spent) and reads the winner's object.
A `create()` that fails rolls the key row back with it, so a retry with the same
key works.

Views call `once_from_form(request, scope, create)`; DRF viewsets take
`IdempotentCreateMixin`.
"""

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import BadRequest, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

from .models import IdempotencyKey

__all__ = [
    "FORM_TOKEN_FIELD",
    "HEADER",
    "KEY_MAX_LENGTH",
    "IdempotencyKeyError",
    "IdempotentCreateMixin",
    "find_once",
    "new_form_token",
    "once_from_form",
    "replay_message",
    "run_once",
    "validate_key",
]

Obj = TypeVar("Obj", bound=models.Model)

FORM_TOKEN_FIELD = "form_token"  # noqa: S105 (a field name, not a secret)
HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = IdempotencyKey._meta.get_field("key").max_length  # 200
SCOPE_MAX_LENGTH = IdempotencyKey._meta.get_field("scope").max_length  # 100


class IdempotencyKeyError(ValidationError):
    """The key is empty, too long or no longer usable; the message is in French."""


def new_form_token() -> str:
    """A fresh token for a create form's hidden field (a random uuid4)."""
    return uuid.uuid4().hex


def validate_key(key) -> str:
    """The key itself, if it is a non-empty text of at most 200 characters."""
    if not isinstance(key, str) or not key.strip():
        raise IdempotencyKeyError(
            _("The idempotency key is empty: send a unique text per creation."),
            code="idempotency_key",
        )
    if len(key) > KEY_MAX_LENGTH:
        raise IdempotencyKeyError(
            _("The idempotency key is too long (%(max)s characters at most).")
            % {"max": KEY_MAX_LENGTH},
            code="idempotency_key",
        )
    return key


def _check_scope(scope: str) -> str:
    if not scope or len(scope) > SCOPE_MAX_LENGTH:
        raise ValueError(f"An idempotency scope has 1 to {SCOPE_MAX_LENGTH} characters: {scope!r}")
    return scope


def find_once(*, user, scope: str, key: str) -> models.Model | None:
    """The object already recorded under (user, scope, key), or None."""
    record = (
        IdempotencyKey.objects.filter(user=user, scope=scope, key=key, object_id__isnull=False)
        .select_related("content_type")
        .first()
    )
    if record is None:
        return None
    model = record.content_type.model_class()
    found = model._default_manager.filter(pk=record.object_id).first() if model else None
    if found is None:
        raise IdempotencyKeyError(
            _("The object recorded with this idempotency key no longer exists: use a new key."),
            code="idempotency_key",
        )
    return found


class _KeyTaken(Exception):
    """Another transaction holds (or committed) the same key."""


def run_once(*, user, scope: str, key: str, create: Callable[[], Obj]) -> tuple[Obj, bool]:
    """`create()` once per (user, scope, key): (the object, True) the first time, then
    (the same object, False), also when two calls race (see the module's docstring).

    `create` runs inside this function's transaction (a savepoint when the caller has
    one) and must return the saved object; whatever it raises propagates, and the key
    is then not recorded. A bad key raises IdempotencyKeyError (French message).
    """
    _check_scope(scope)
    validate_key(key)
    found = find_once(user=user, scope=scope, key=key)
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            try:
                # Its own savepoint: the loser's IntegrityError leaves the transaction usable.
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=user, scope=scope, key=key)
            except IntegrityError:
                raise _KeyTaken from None
            created = create()
            record.content_type = ContentType.objects.get_for_model(created)
            record.object_id = created.pk
            record.save(update_fields=["content_type", "object_id"])
    except _KeyTaken:
        # The winner has committed (PostgreSQL made us wait for it): its object is visible.
        found = find_once(user=user, scope=scope, key=key)
        if found is None:
            raise IdempotencyKeyError(
                _("A creation with this idempotency key is still running: try again shortly."),
                code="idempotency_key",
            ) from None
        return found, False
    return created, True


# ---------------------------------------------------------------------------
# Forms


def replay_message(obj) -> str:
    """What a user reads when the same form came back: nothing recorded twice."""
    return _("This form had already been sent: nothing was recorded twice. Here is %(object)s.") % {
        "object": obj
    }


def once_from_form(request, scope: str, create: Callable[[], Obj]) -> tuple[Obj, bool]:
    """`create()` once per form token (FORM_TOKEN_FIELD in request.POST, rendered by
    `{% form_token %}`): the same form posted twice records once.

    A post without a token just creates. On a replay this function has already put an
    info message (`replay_message`); the view redirects to the object without its
    success message. A malformed token (tampering) is a 400 Bad Request.
    """
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    if not token:
        return create(), True
    try:
        validate_key(token)
    except IdempotencyKeyError as error:
        raise BadRequest(error.messages[0]) from None
    obj, created = run_once(user=request.user, scope=scope, key=token, create=create)
    if not created:
        messages.info(request, replay_message(obj))
    return obj, created


# ---------------------------------------------------------------------------
# API


class BadIdempotencyKey(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The idempotency key is not valid.")
    default_code = "idempotency_key"


class IdempotentCreateMixin:
    """`create()` of a DRF viewset that honours the `Idempotency-Key` header.

    First time: the object is created and answered 201; the same key again (same user,
    same viewset basename): 200 with that same object, and the header
    `Idempotent-Replayed: true`; no header: a normal create (201). Both answers are
    the viewset's serializer of the object re-read through `get_queryset()`.

    The viewset creates in `perform_create(serializer)` (DRF's `serializer.save()`,
    which sets `serializer.instance`), or overrides `perform_idempotent_create(
    serializer) -> object`, e.g. to call a service with `serializer.validated_data`.
    A replay answers before the body is validated: the key names the creation.
    """

    idempotency_header = HEADER

    def get_idempotency_scope(self) -> str:
        return self.basename

    def perform_idempotent_create(self, serializer):
        self.perform_create(serializer)
        return serializer.instance

    def get_create_serializer(self, data):
        return self.get_serializer(data=data)

    def idempotent_response(self, obj, *, created: bool) -> Response:
        instance = self.get_queryset().filter(pk=obj.pk).first() or obj
        data = self.get_serializer(instance).data
        headers = {} if created else {"Idempotent-Replayed": "true"}
        headers.update(self.get_success_headers(data))
        return Response(
            data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK, headers=headers
        )

    def create(self, request, *args, **kwargs):
        key = request.headers.get(self.idempotency_header)
        if key is None:
            serializer = self.get_create_serializer(request.data)
            serializer.is_valid(raise_exception=True)
            obj = self.perform_idempotent_create(serializer)
            return self.idempotent_response(obj, created=True)
        scope = self.get_idempotency_scope()
        try:
            validate_key(key)
            found = find_once(user=request.user, scope=scope, key=key)
            if found is not None:
                return self.idempotent_response(found, created=False)
            serializer = self.get_create_serializer(request.data)
            serializer.is_valid(raise_exception=True)
            obj, created = run_once(
                user=request.user,
                scope=scope,
                key=key,
                create=lambda: self.perform_idempotent_create(serializer),
            )
        except IdempotencyKeyError as error:
            raise BadIdempotencyKey(" ".join(error.messages)) from None
        return self.idempotent_response(obj, created=created)

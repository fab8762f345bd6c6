"""The API's shared pieces (the error mixin every app's viewsets use) and the
shell's own endpoints: token, current user."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .errors import ServiceError
from .roles import user_capabilities, user_roles
from .views import locked_out


class ServiceRefused(exceptions.APIException):
    """A business rule refused the request: 400 with the service's French message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request was refused.")
    default_code = "refused"


class ServiceErrorsMixin:
    """Answers the services' exceptions the way the API answers its own.

    A ServiceError (any app's, a Django ValidationError) becomes 400
    {"detail": "<French message>"}, the service's PermissionDenied a 403 with its
    message, and a missing object the French 404 of DRF rather than Django's English
    "No … matches the given query".
    """

    def handle_exception(self, exc):
        if isinstance(exc, ServiceError):
            exc = ServiceRefused(" ".join(exc.messages), code=getattr(exc, "code", None))
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        elif isinstance(exc, Http404):
            exc = exceptions.NotFound()
        return super().handle_exception(exc)


class RoleSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    roles = RoleSerializer(many=True)
    capabilities = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """The authenticated user, their roles and their capabilities."""

    @extend_schema(responses=MeSerializer, summary=_("Current user and roles"))
    def get(self, request):
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "full_name": user.get_full_name(),
            "email": user.email,
            "roles": [{"code": role.value, "label": str(role.label)} for role in user_roles(user)],
            "capabilities": user_capabilities(user),
        }
        return Response(MeSerializer(data).data)


class TokenView(ObtainAuthToken):
    """POST username and password, get the API token (throttled, and locked out by axes)."""

    permission_classes = (AllowAny,)
    # DRF's own view has no throttle: guessing passwords gets slowed down per address.
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth-token"

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        summary=_("Obtain an API token"),
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes marks the request it saw, here DRF's wrapper, not Django's
            # request that its middleware inspects: answer the lockout ourselves.
            if getattr(request, "axes_locked_out", False):
                return locked_out(request._request)
            raise

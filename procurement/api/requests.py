"""API of the purchase requests: /api/v1/purchase-requests/.

The same capabilities and services as the screens: the buyers create (with an
optional `Idempotency-Key` header), change drafts, submit and reopen; the
approvers approve (with `override_reason` when they may go over a short available
amount), reject and cancel what holds credits. No DELETE: a request is cancelled
with a reason, never deleted. A refusal is 400 {"detail": "<French message>"}; a
short available amount adds "code": "credits_short", "can_override" and the
shortages.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets.services import CreditsShortError
from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from .. import access
from ..models import PurchaseRequest
from ..selectors import requests as selectors
from ..serializers.requests import (
    ApproveSerializer,
    PurchaseRequestSerializer,
    PurchaseRequestWriteSerializer,
    ReasonSerializer,
)
from ..services import requests as services

ENTER = "enter_purchase_request"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=_(
        "A unique text per creation (200 characters at most): the same key sent again "
        "returns the request created the first time (200) instead of creating another."
    ),
)
REFUSED = OpenApiResponse(description=_("Refused (French message in `detail`)"))


class PurchaseRequestApiFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=PurchaseRequest.State.choices, label=_("State"))
    year = django_filters.NumberFilter(field_name="fiscal_year__year", label=_("Fiscal year"))
    supplier = django_filters.NumberFilter(field_name="supplier_id", label=_("Supplier id"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Only mine"))

    class Meta:
        model = PurchaseRequest
        fields = ("state", "year", "supplier", "mine")

    def filter_mine(self, queryset, name, value):
        if value:
            return queryset.filter(requested_by=self.request.user)
        if value is False:
            return queryset.exclude(requested_by=self.request.user)
        return queryset


@extend_schema_view(
    list=extend_schema(summary=_("Purchase requests")),
    retrieve=extend_schema(summary=_("A purchase request and its lines")),
    create=extend_schema(
        summary=_("Enter a purchase request (draft)"),
        request=PurchaseRequestWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: PurchaseRequestSerializer,
            200: OpenApiResponse(
                PurchaseRequestSerializer, description=_("Replay of the same key")
            ),
            400: REFUSED,
        },
    ),
    update=extend_schema(
        summary=_("Change a draft request (its lines are replaced)"),
        request=PurchaseRequestWriteSerializer,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    ),
    partial_update=extend_schema(
        summary=_("Change some fields of a draft request"),
        request=PurchaseRequestWriteSerializer,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    ),
)
class PurchaseRequestViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Purchase requests (demandes d'achat) with their lines: amounts in integer XPF
    francs before tax (HT), TGC and with tax (TTC); quantities as strings.
    `?state=`, `?year=`, `?supplier=<id>` and `?mine=true` filter the list."""

    serializer_class = PurchaseRequestSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = PurchaseRequestApiFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_capabilities = {
        "create": ENTER,
        "update": ENTER,
        "partial_update": ENTER,
        "submit": ENTER,
        "reopen": ENTER,
        "approve": access.APPROVE_REQUEST,
        "reject": access.APPROVE_REQUEST,
        "transmit": "approve_purchase_request",
        "cancel": (ENTER, *access.APPROVE_REQUEST),
    }

    @property
    def required_capability(self):
        """Read by HasRolePermission: the capability of the action (any one of a tuple)."""
        return self.action_capabilities.get(self.action, access.REQUESTS)

    def get_queryset(self):
        return (
            selectors.purchase_request_detail(actor=self.request.user)
            .select_related("commitment")
            .order_by("-created_at", "-pk")
        )

    def handle_exception(self, exc):
        if isinstance(exc, CreditsShortError):
            return Response(
                {
                    "detail": " ".join(exc.messages),
                    "code": "credits_short",
                    "can_override": exc.can_override,
                    "shortages": [
                        {"scope": s.scope, "requested": s.requested, "available": s.available}
                        for s in exc.shortages
                    ],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)

    def _response(self, purchase_request, *, status_code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=purchase_request.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    # Creation: the body is read by PurchaseRequestWriteSerializer, the rules are the service's.
    def get_create_serializer(self, data):
        return PurchaseRequestWriteSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        data = serializer.validated_data
        return services.purchase_request_create(
            user=self.request.user,
            supplier=data["supplier"],
            subject=data["subject"],
            justification=data.get("justification", ""),
            lines=[dict(line) for line in data["lines"]],
        )

    def update(self, request, *args, **kwargs):
        purchase_request = self.get_object()
        partial = kwargs.get("partial", False)
        body = PurchaseRequestWriteSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = data.get("lines")
        services.purchase_request_update(
            user=request.user,
            request=purchase_request,
            supplier=data.get("supplier", purchase_request.supplier),
            subject=data.get("subject", purchase_request.subject),
            justification=data.get("justification", purchase_request.justification),
            lines=(
                [dict(line) for line in lines]
                if lines is not None
                else services.lines_as_dicts(purchase_request)
            ),
        )
        return self._response(purchase_request)

    @extend_schema(
        summary=_("Submit a draft request for approval"),
        request=None,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def submit(self, request, pk=None):
        """Draft → submitted; every line must name its budget line."""
        purchase_request = services.purchase_request_submit(
            user=request.user, request=self.get_object()
        )
        return self._response(purchase_request)

    @extend_schema(
        summary=_("Approve a submitted request: its commitment takes the credits"),
        request=ApproveSerializer,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def approve(self, request, pk=None):
        """Submitted → approved. Above the approval threshold only the IT director
        (403 otherwise); a short available amount is refused (400, `credits_short`)
        unless the approver may override it and gives `override_reason`."""
        purchase_request = self.get_object()
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.purchase_request_approve(
            user=request.user,
            request=purchase_request,
            override_reason=body.validated_data.get("override_reason", ""),
        )
        return self._response(purchase_request)

    @extend_schema(
        summary=_("Transmit a short request to the IT director, with an optional note"),
        request=ReasonSerializer,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def transmit(self, request, pk=None):
        purchase_request = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.purchase_request_transmit(
            user=request.user,
            request=purchase_request,
            note=body.validated_data.get("reason", ""),
        )
        return self._response(purchase_request)

    @extend_schema(
        summary=_("Reject a submitted request, with the reason the buyer reads"),
        request=ReasonSerializer,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def reject(self, request, pk=None):
        purchase_request = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.purchase_request_reject(
            user=request.user,
            request=purchase_request,
            reason=body.validated_data.get("reason", ""),
        )
        return self._response(purchase_request)

    @extend_schema(
        summary=_("Cancel a request before any invoice, with a reason"),
        request=ReasonSerializer,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def cancel(self, request, pk=None):
        """A draft, submitted or rejected request is cancelled by a buyer; an approved
        one (and after) by an approver: its commitment releases its credits."""
        purchase_request = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.purchase_request_cancel(
            user=request.user,
            request=purchase_request,
            reason=body.validated_data.get("reason", ""),
        )
        return self._response(purchase_request)

    @extend_schema(
        summary=_("Reopen a rejected request as a draft"),
        request=None,
        responses={200: PurchaseRequestSerializer, 400: REFUSED},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def reopen(self, request, pk=None):
        purchase_request = services.purchase_request_reopen(
            user=request.user, request=self.get_object()
        )
        return self._response(purchase_request)


ROUTES: list[tuple[str, type, str]] = [
    ("purchase-requests", PurchaseRequestViewSet, "purchase-request"),
]

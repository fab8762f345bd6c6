"""API of the suppliers: /api/v1/suppliers/.

Everyone who uses the application reads them; the buyers (manage_supplier) create
(with an optional `Idempotency-Key` header), update and deactivate or reactivate
them. A supplier is never deleted: DELETE answers 405.
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
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from ..access import SUPPLIERS
from ..models import Supplier
from ..selectors import suppliers as selectors
from ..serializers.suppliers import SupplierSerializer, SupplierWriteSerializer
from ..services import suppliers as services

MANAGE = "manage_supplier"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=_(
        "A unique text per creation (200 characters at most): the same key sent again "
        "returns the supplier created the first time (200) instead of creating another."
    ),
)


class SupplierApiFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(field_name="is_active", label=_("Active"))
    search = django_filters.CharFilter(method="filter_search", label=_("Name or RIDET contains"))

    class Meta:
        model = Supplier
        fields = ("active", "search")

    def filter_search(self, queryset, name, value):
        return selectors.search_suppliers(queryset, value)


@extend_schema_view(
    list=extend_schema(summary=_("Suppliers")),
    retrieve=extend_schema(summary=_("A supplier")),
    create=extend_schema(
        summary=_("Create a supplier"),
        request=SupplierWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: SupplierSerializer,
            200: OpenApiResponse(SupplierSerializer, description=_("Replay of the same key")),
            400: OpenApiResponse(description=_("Refused")),
        },
    ),
    update=extend_schema(summary=_("Update a supplier"), request=SupplierWriteSerializer),
    partial_update=extend_schema(
        summary=_("Update some fields of a supplier"), request=SupplierWriteSerializer
    ),
)
class SupplierViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Suppliers with their RIDET (`1234567.001`), contacts, payment terms in days and
    bank details. `?active=true|false` and `?search=` (name or RIDET) filter the list."""

    serializer_class = SupplierSerializer
    required_capability = SUPPLIERS
    required_capabilities = {"POST": MANAGE, "PUT": MANAGE, "PATCH": MANAGE}
    filter_backends = (DjangoFilterBackend,)
    filterset_class = SupplierApiFilter

    def get_queryset(self):
        return selectors.suppliers(actor=self.request.user)

    # Creation: the body is checked by SupplierWriteSerializer, the rules by the service.
    def get_create_serializer(self, data):
        return SupplierWriteSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        return services.supplier_create(user=self.request.user, **serializer.validated_data)

    def update(self, request, *args, **kwargs):
        supplier = self.get_object()
        body = SupplierWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        body.is_valid(raise_exception=True)
        supplier = services.supplier_update(
            user=request.user, supplier=supplier, **body.validated_data
        )
        return Response(self.get_serializer(supplier).data)

    @extend_schema(
        summary=_("Deactivate a supplier"),
        request=None,
        responses={200: SupplierSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def deactivate(self, request, pk=None):
        """No longer offered for new requests, commitments and invoices; nothing is lost."""
        supplier = services.supplier_deactivate(user=request.user, supplier=self.get_object())
        return Response(self.get_serializer(supplier).data)

    @extend_schema(
        summary=_("Reactivate a supplier"),
        request=None,
        responses={200: SupplierSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def reactivate(self, request, pk=None):
        supplier = services.supplier_reactivate(user=request.user, supplier=self.get_object())
        return Response(self.get_serializer(supplier).data)


ROUTES: list[tuple[str, type, str]] = [
    ("suppliers", SupplierViewSet, "supplier"),
]

"""API of the receipts (/api/v1/receipts/): list and read them with their lines,
record one (Idempotency-Key honoured), cancel one with a reason.

Capabilities as on the screens (procurement.access.RECEIPTS to read,
record_receipt to change). No DELETE: a receipt is cancelled, never deleted.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from .. import access
from ..models import Receipt
from ..selectors.receipts import receipt_with_lines
from ..serializers.orders import ReasonInputSerializer
from ..serializers.receipts import ReceiptInputSerializer, ReceiptSerializer
from ..services import receipts as services


class ReceiptApiFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(
        field_name="commitment__fiscal_year__year", label=_("Fiscal year")
    )
    commitment = django_filters.NumberFilter(field_name="commitment_id", label=_("Commitment id"))
    supplier = django_filters.NumberFilter(
        field_name="commitment__supplier_id", label=_("Supplier id")
    )
    cancelled = django_filters.BooleanFilter(
        field_name="cancelled_at", lookup_expr="isnull", exclude=True, label=_("Cancelled")
    )

    class Meta:
        model = Receipt
        fields = ("year", "commitment", "supplier", "cancelled")


@extend_schema_view(
    list=extend_schema(summary=_("Receipts (service fait)")),
    retrieve=extend_schema(summary=_("A receipt and its lines")),
    create=extend_schema(
        summary=_("Record what arrived on a commitment's lines"),
        request=ReceiptInputSerializer,
        responses={201: ReceiptSerializer, 400: OpenApiResponse(description=_("Refused"))},
    ),
)
class ReceiptViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Receipts: the quantities received per commitment line, on a date."""

    serializer_class = ReceiptSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = ReceiptApiFilter
    action_capabilities = {"create": "record_receipt", "cancel": "record_receipt"}

    @property
    def required_capability(self):
        return self.action_capabilities.get(self.action, access.RECEIPTS)

    def get_queryset(self):
        return receipt_with_lines(actor=self.request.user).order_by("-received_on", "-pk")

    def get_create_serializer(self, data):
        return ReceiptInputSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        data = serializer.validated_data
        return services.receipt_create(
            user=self.request.user,
            commitment=data["commitment"],
            received_on=data["received_on"],
            quantities=serializer.quantities(),
            note=data.get("note", ""),
        )

    @extend_schema(
        summary=_("Cancel a receipt: its quantities are no longer received"),
        request=ReasonInputSerializer,
        responses={200: ReceiptSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def cancel(self, request, pk=None):
        receipt = self.get_object()
        body = ReasonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.receipt_cancel(
            user=request.user, receipt=receipt, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=receipt.pk)).data)


ROUTES = [("receipts", ReceiptViewSet, "receipt")]

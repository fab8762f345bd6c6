"""API of the purchase orders (/api/v1/purchase-orders/): list and read them, issue
the order of an approved request's commitment (Idempotency-Key honoured), mark it
as sent, cancel it, and download its PDF order form.

Capabilities as on the screens (procurement.access.ORDERS to read, record_order to
change). No DELETE: an order is cancelled, never deleted.
"""

import json

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from .. import access
from ..models import CommitmentLine, PurchaseOrder
from ..pdf import OrderPdfUnavailable, order_pdf_filename, render_order_pdf
from ..selectors.orders import order_list
from ..serializers.orders import (
    PurchaseOrderInputSerializer,
    PurchaseOrderSerializer,
    ReasonInputSerializer,
)
from ..services import orders as services


class OrderPdfConflict(exceptions.APIException):
    """409: the order form cannot be built until the instance's configuration is finished."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "operator_address_missing"


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; an error still answers JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class PurchaseOrderApiFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="fiscal_year__year", label=_("Fiscal year"))
    state = django_filters.ChoiceFilter(choices=PurchaseOrder.State.choices, label=_("State"))
    supplier = django_filters.NumberFilter(field_name="supplier_id", label=_("Supplier id"))
    commitment = django_filters.NumberFilter(field_name="commitment_id", label=_("Commitment id"))


@extend_schema_view(
    list=extend_schema(summary=_("Purchase orders")),
    retrieve=extend_schema(summary=_("A purchase order, its lines and its TGC by rate")),
    create=extend_schema(
        summary=_("Issue the order of an approved request's commitment"),
        request=PurchaseOrderInputSerializer,
        responses={201: PurchaseOrderSerializer, 400: OpenApiResponse(description=_("Refused"))},
    ),
)
class PurchaseOrderViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Purchase orders (bons de commande), numbered BC-YYYY-NNNNN without gap; amounts
    in integer XPF francs."""

    serializer_class = PurchaseOrderSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = PurchaseOrderApiFilter
    action_capabilities = {
        "create": "record_order",
        "mark_sent": "record_order",
        "cancel": "record_order",
    }

    @property
    def required_capability(self):
        return self.action_capabilities.get(self.action, access.ORDERS)

    def get_queryset(self):
        lines = CommitmentLine.objects.select_related("tax_rate").order_by("position")
        return (
            order_list(actor=self.request.user)
            .select_related("issued_by", "sent_by", "cancelled_by")
            .prefetch_related(Prefetch("commitment__lines", queryset=lines))
            .order_by("-issued_at", "-pk")
        )

    def get_create_serializer(self, data):
        return PurchaseOrderInputSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        data = serializer.validated_data
        return services.purchase_order_create(
            user=self.request.user,
            commitment=data["commitment"],
            delivery_address=data.get("delivery_address", ""),
            delivery_date=data.get("delivery_date"),
            notes=data.get("notes", ""),
        )

    def _order_response(self, order) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(
        summary=_("Mark an issued order as sent to the supplier"),
        request=None,
        responses={200: PurchaseOrderSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], url_path="mark-sent", filter_backends=())
    def mark_sent(self, request, pk=None):
        order = services.purchase_order_mark_sent(user=request.user, order=self.get_object())
        return self._order_response(order)

    @extend_schema(
        summary=_("Cancel an order nothing was received on"),
        request=ReasonInputSerializer,
        responses={200: PurchaseOrderSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def cancel(self, request, pk=None):
        order = self.get_object()
        body = ReasonInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = services.purchase_order_cancel(
            user=request.user, order=order, reason=body.validated_data["reason"]
        )
        return self._order_response(order)

    @extend_schema(
        summary=_("The order form (PDF)"),
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            409: OpenApiResponse(
                description=_(
                    "The operator's address (OPERATOR_ADDRESS) is still the placeholder: "
                    "no order form is built in production until it is set."
                )
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=(),
        renderer_classes=(renderers.JSONRenderer, PdfRenderer),
    )
    def pdf(self, request, pk=None):
        order = self.get_object()
        try:
            data = render_order_pdf(order)
        except OrderPdfUnavailable as error:
            raise OrderPdfConflict(str(error)) from error
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{order_pdf_filename(order)}"'
        return response


ROUTES = [("purchase-orders", PurchaseOrderViewSet, "purchase-order")]

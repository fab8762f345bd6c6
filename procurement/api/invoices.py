"""API of the invoices (/api/v1/invoices/): list them (the screen's tabs and filters,
paged without any COUNT), read one with its lines, enter one (Idempotency-Key
honoured), and its actions: liquidate (optional override_reason), validate, cancel
(reason), payment (payment_date).

The same capabilities as the screens; every change goes through
procurement.services.invoices; a refused change is 400 {"detail": "<French>"} (a
short available amount adds "code": "credits_short" and "can_override"). No
DELETE: an invoice is cancelled, never deleted.
"""

import django_filters
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from budgets.services import CreditsShortError
from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from .. import access
from ..models import Invoice
from ..selectors import invoices as selectors
from ..serializers.invoices import (
    CancelInputSerializer,
    InvoiceDetailSerializer,
    InvoiceInputSerializer,
    InvoiceSerializer,
    LiquidateInputSerializer,
    PaymentInputSerializer,
)
from ..services import invoices as services
from ..services import payments
from ..services.currency import XPF


class LazyPagination(BasePagination):
    """Pages of ?page=N (and ?page_size= up to 500) without counting the rows: one more
    row than the page is read to know whether a next page exists. Over a million
    invoices, a COUNT on every call would cost more than the page itself."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self._positive(
            request.query_params.get(self.page_size_query_param),
            settings.REST_FRAMEWORK["PAGE_SIZE"],
            self.max_page_size,
        )
        self.page = self._positive(request.query_params.get("page"), 1, None)
        start = (self.page - 1) * self.page_size
        rows = list(queryset[start : start + self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        return rows[: self.page_size]

    @staticmethod
    def _positive(value, default: int, maximum: int | None) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return default
        if number < 1:
            return default
        return min(number, maximum) if maximum else number

    def _link(self, page: int) -> str:
        url = self.request.build_absolute_uri()
        if page == 1:
            return remove_query_param(url, "page")
        return replace_query_param(url, "page", page)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link(self.page + 1) if self.has_next else None,
                "previous": self._link(self.page - 1) if self.page > 1 else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": str(_("Page number (no total is given).")),
                "schema": {"type": "integer"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(_("Rows per page, 500 at most.")),
                "schema": {"type": "integer"},
            },
        ]


class InvoiceApiFilter(django_filters.FilterSet):
    tab = django_filters.ChoiceFilter(
        choices=[(tab, tab) for tab in selectors.TABS],
        method="on_tab",
        label=_("all, to_liquidate (entered or to validate), late (unpaid past due)"),
    )
    year = django_filters.NumberFilter(field_name="fiscal_year__year", label=_("Fiscal year"))
    state = django_filters.ChoiceFilter(choices=Invoice.State.choices, label=_("State"))
    supplier = django_filters.NumberFilter(field_name="supplier_id", label=_("Supplier id"))
    commitment = django_filters.NumberFilter(field_name="commitment_id", label=_("Commitment id"))
    q = django_filters.CharFilter(
        method="on_numbers", label=_("Text in our number or the supplier's number")
    )

    def on_tab(self, queryset, name, value):
        return selectors.with_tab(queryset, value)

    def on_numbers(self, queryset, name, value):
        return selectors.search(queryset, value)


@extend_schema_view(
    list=extend_schema(summary=_("Invoices (no lines; paged without a total)")),
    retrieve=extend_schema(summary=_("An invoice and its lines")),
    create=extend_schema(
        summary=_("Enter an invoice, matched to a commitment's lines or direct"),
        request=InvoiceInputSerializer,
        responses={201: InvoiceDetailSerializer, 400: OpenApiResponse(description=_("Refused"))},
    ),
)
class InvoiceViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Supplier invoices: amounts in integer XPF francs, and in the invoice's currency
    (decimal strings) with the rate used."""

    filter_backends = (DjangoFilterBackend,)
    filterset_class = InvoiceApiFilter
    pagination_class = LazyPagination
    action_capabilities = {
        "create": "enter_invoice",
        "liquidate": "liquidate_invoice",
        "validate": "validate_liquidation",
        "cancel": ("enter_invoice", "liquidate_invoice", "validate_liquidation"),
        "payment": payments.PAYMENT_CAPABILITIES,
    }

    @property
    def required_capability(self):
        """Read by HasRolePermission: the screens' capabilities."""
        return self.action_capabilities.get(self.action, access.INVOICES)

    def get_queryset(self):
        if self.action == "list":
            return selectors.invoices(actor=self.request.user)
        return selectors.invoice_detail(actor=self.request.user)

    def get_serializer_class(self):
        return InvoiceSerializer if self.action == "list" else InvoiceDetailSerializer

    def get_create_serializer(self, data):
        return InvoiceInputSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        data = serializer.validated_data
        return services.invoice_create(
            user=self.request.user,
            supplier=data["supplier"],
            supplier_number=data["supplier_number"],
            invoice_date=data["invoice_date"],
            received_on=data["received_on"],
            lines=serializer.service_lines(),
            commitment=data.get("commitment"),
            currency=data.get("currency") or XPF,
            exchange_rate=data.get("exchange_rate") or None,
            total_ttc=data.get("total_ttc") or None,
        )

    def handle_exception(self, exc):
        if isinstance(exc, CreditsShortError):
            return Response(
                {
                    "detail": " ".join(exc.messages),
                    "code": "credits_short",
                    "can_override": exc.can_override,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)

    def _answer(self, invoice) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=invoice.pk)).data)

    @extend_schema(
        summary=_("Liquidate an entered invoice (above the threshold: to validate)"),
        request=LiquidateInputSerializer,
        responses={200: InvoiceDetailSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def liquidate(self, request, pk=None):
        body = LiquidateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_liquidate(
            user=request.user,
            invoice=self.get_object(),
            override_reason=body.validated_data.get("override_reason", ""),
        )
        return self._answer(invoice)

    @extend_schema(
        summary=_("Validate a liquidation above the threshold: it is posted"),
        request=LiquidateInputSerializer,
        responses={200: InvoiceDetailSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def validate(self, request, pk=None):
        body = LiquidateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_validate(
            user=request.user,
            invoice=self.get_object(),
            override_reason=body.validated_data.get("override_reason", ""),
        )
        return self._answer(invoice)

    @extend_schema(
        summary=_("Cancel an invoice with a reason (a liquidated one is reversed)"),
        request=CancelInputSerializer,
        responses={200: InvoiceDetailSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def cancel(self, request, pk=None):
        body = CancelInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_cancel(
            user=request.user, invoice=self.get_object(), reason=body.validated_data["reason"]
        )
        return self._answer(invoice)

    @extend_schema(
        summary=_("Record the date a liquidated invoice was paid"),
        request=PaymentInputSerializer,
        responses={200: InvoiceDetailSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def payment(self, request, pk=None):
        body = PaymentInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = payments.invoice_set_payment_date(
            user=request.user,
            invoice=self.get_object(),
            payment_date=body.validated_data["payment_date"],
        )
        return self._answer(invoice)


ROUTES = [("invoices", InvoiceViewSet, "invoice")]

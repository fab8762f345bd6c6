"""Serializers of the purchase orders API: the order with its lines and TGC by rate,
and the body of an order's creation."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Commitment
from ..services.orders import order_line_amount, order_totals
from .commitments import QUANTITY, username


class OrderLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    description = serializers.CharField()
    quantity = serializers.DecimalField(allow_null=True, **QUANTITY)
    unit_price = serializers.IntegerField(allow_null=True)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    amount_ht = serializers.IntegerField()
    received_quantity = serializers.DecimalField(**QUANTITY)


class OrderTaxLineSerializer(serializers.Serializer):
    rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    base = serializers.IntegerField()
    tax = serializers.IntegerField()


class PurchaseOrderSerializer(serializers.Serializer):
    """An order; `lines` and `tax_by_rate` are read from its commitment's lines
    (prefetched by the viewset)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    year = serializers.IntegerField(source="fiscal_year.year")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    commitment = serializers.IntegerField(source="commitment_id")
    commitment_number = serializers.CharField(source="commitment.number")
    purchase_request = serializers.IntegerField(
        source="commitment.purchase_request_id", allow_null=True
    )
    supplier = serializers.IntegerField(source="supplier_id")
    supplier_name = serializers.CharField(source="supplier.name")
    delivery_address = serializers.CharField()
    delivery_date = serializers.DateField(allow_null=True)
    notes = serializers.CharField()
    amount_ht = serializers.IntegerField()
    amount_tax = serializers.IntegerField()
    amount_ttc = serializers.IntegerField()
    tax_by_rate = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    issued_by = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField()
    sent_by = serializers.SerializerMethodField()
    sent_at = serializers.DateTimeField(allow_null=True)
    cancelled_by = serializers.SerializerMethodField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    pdf = serializers.SerializerMethodField(help_text=_("The order form (PDF)."))

    def _lines(self, order):
        return sorted(order.commitment.lines.all(), key=lambda line: line.position)

    @extend_schema_field(OrderTaxLineSerializer(many=True))
    def get_tax_by_rate(self, order):
        totals = order_totals(self._lines(order))
        return OrderTaxLineSerializer(totals.by_rate, many=True).data

    @extend_schema_field(OrderLineSerializer(many=True))
    def get_lines(self, order):
        return OrderLineSerializer(
            [
                {
                    "position": line.position,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "tax_rate": line.tax_rate.rate if line.tax_rate_id else None,
                    "amount_ht": order_line_amount(line),
                    "received_quantity": line.received_quantity,
                }
                for line in self._lines(order)
            ],
            many=True,
        ).data

    def get_issued_by(self, order) -> str:
        return username(order.issued_by)

    def get_sent_by(self, order) -> str | None:
        return username(order.sent_by)

    def get_cancelled_by(self, order) -> str | None:
        return username(order.cancelled_by)

    def get_pdf(self, order) -> str:
        path = reverse("api:purchase-order-pdf", args=[order.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class PurchaseOrderInputSerializer(serializers.Serializer):
    commitment = serializers.PrimaryKeyRelatedField(
        queryset=Commitment.objects.all(),
        help_text=_("The commitment of an approved purchase request."),
    )
    delivery_address = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    delivery_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)

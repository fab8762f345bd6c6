"""Serializers of the receipts API: the receipt with its lines, and the body of a
receipt's creation (one quantity per commitment line received)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from ..models import Commitment
from .commitments import QUANTITY, username


class ReceiptLineSerializer(serializers.Serializer):
    commitment_line = serializers.IntegerField(source="commitment_line_id")
    position = serializers.IntegerField(source="commitment_line.position")
    description = serializers.CharField(source="commitment_line.description")
    quantity = serializers.DecimalField(**QUANTITY)


class ReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    commitment = serializers.IntegerField(source="commitment_id")
    commitment_number = serializers.CharField(source="commitment.number")
    order_number = serializers.SerializerMethodField()
    supplier = serializers.IntegerField(source="commitment.supplier_id")
    received_on = serializers.DateField()
    note = serializers.CharField()
    recorded_by = serializers.SerializerMethodField()
    recorded_at = serializers.DateTimeField()
    cancelled = serializers.BooleanField(source="is_cancelled")
    cancelled_by = serializers.SerializerMethodField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    lines = ReceiptLineSerializer(many=True)

    def get_order_number(self, receipt) -> str | None:
        order = getattr(receipt.commitment, "order", None)
        return order.number if order else None

    def get_recorded_by(self, receipt) -> str:
        return username(receipt.recorded_by)

    def get_cancelled_by(self, receipt) -> str | None:
        return username(receipt.cancelled_by)


class ReceiptLineInputSerializer(serializers.Serializer):
    commitment_line = serializers.IntegerField(min_value=1)
    # Text, so that the service reads exactly what was sent ("1.5", "2").
    quantity = serializers.CharField(max_length=30)


class ReceiptInputSerializer(serializers.Serializer):
    commitment = serializers.PrimaryKeyRelatedField(queryset=Commitment.objects.all())
    received_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False)

    def validate_lines(self, lines):
        seen = set()
        for line in lines:
            if line["commitment_line"] in seen:
                raise serializers.ValidationError(
                    _("The commitment line %(line)s appears twice.")
                    % {"line": line["commitment_line"]},
                    code="duplicate",
                )
            seen.add(line["commitment_line"])
        return lines

    def quantities(self) -> dict[int, str]:
        return {line["commitment_line"]: line["quantity"] for line in self.validated_data["lines"]}

"""Serializers of the commitments API: the commitment with its nested lines, and the
bodies of a recurring contract's commitment and of the closing. Amounts are integer
XPF francs before tax; quantities are decimal strings."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from budgets.models import BudgetLine, FiscalYear
from dsi_finance.serializers import FrancsSerializerField

from ..models import Supplier
from ..services.commitments import LineSpec

QUANTITY = {"max_digits": 14, "decimal_places": 3}


def username(user) -> str | None:
    return user.get_username() if user else None


class CommitmentLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    budget_line = serializers.IntegerField(source="budget_line_id")
    budget_line_code = serializers.CharField(source="budget_line.code")
    description = serializers.CharField()
    quantity = serializers.DecimalField(allow_null=True, **QUANTITY)
    unit_price = serializers.IntegerField(allow_null=True)
    tax_rate = serializers.DecimalField(
        source="tax_rate.rate", max_digits=5, decimal_places=2, allow_null=True, default=None
    )
    amount = serializers.IntegerField(help_text=_("Committed, before tax."))
    liquidated = serializers.IntegerField()
    released = serializers.IntegerField()
    remainder = serializers.IntegerField(help_text=_("Committed − liquidated − released."))
    received_quantity = serializers.DecimalField(**QUANTITY)
    invoiced_quantity = serializers.DecimalField(**QUANTITY)
    invoiced = serializers.IntegerField()


class CommitmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    year = serializers.IntegerField(source="fiscal_year.year")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    supplier = serializers.IntegerField(source="supplier_id")
    supplier_name = serializers.CharField(source="supplier.name")
    subject = serializers.CharField()
    purchase_request = serializers.IntegerField(source="purchase_request_id", allow_null=True)
    purchase_request_number = serializers.CharField(
        source="purchase_request.number", allow_null=True, default=None
    )
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    amount = serializers.IntegerField()
    liquidated = serializers.IntegerField()
    released = serializers.IntegerField()
    remainder = serializers.IntegerField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    closed_by = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    lines = CommitmentLineSerializer(many=True)

    def get_created_by(self, commitment) -> str:
        return username(commitment.created_by)

    def get_closed_by(self, commitment) -> str | None:
        return username(commitment.closed_by)


class RecurringLineInputSerializer(serializers.Serializer):
    budget_line = serializers.PrimaryKeyRelatedField(
        queryset=BudgetLine.objects.filter(fiscal_year__state=FiscalYear.State.OPEN),
        help_text=_("A budget line of an open fiscal year."),
    )
    description = serializers.CharField(max_length=300)
    amount = FrancsSerializerField(help_text=_("Whole francs before tax."))


class RecurringCommitmentInputSerializer(serializers.Serializer):
    """A recurring contract's commitment: the credits are taken at once."""

    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.filter(is_active=True))
    subject = serializers.CharField(max_length=200)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    lines = RecurringLineInputSerializer(many=True, allow_empty=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def line_specs(self) -> list[LineSpec]:
        return [
            LineSpec(
                budget_line=line["budget_line"],
                description=line["description"],
                amount=line["amount"],
            )
            for line in self.validated_data["lines"]
        ]


class CloseInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)

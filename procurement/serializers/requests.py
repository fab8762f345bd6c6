"""Serializers of the purchase request API (procurement/api/requests.py).

Read: a request with its lines, amounts in integer XPF francs, quantities as
strings with three decimals ("2.500"), TGC rates as percent strings ("22").
Write: the bodies the services take; the rules (positive quantity, known TGC
rate, one open year, active supplier…) are the services', which answer 400
{"detail": "<French message>"}.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.models import BudgetLine
from dsi_finance.serializers import FrancsSerializerField

from ..models import Supplier


@extend_schema_field(
    {"type": "string", "example": "22", "description": "TGC rate in percent (22, 11, 6, 3, 0)"}
)
class TaxRatePercentField(serializers.Field):
    """A TGC rate: written as its percentage (string or number), read as "22", "5.5"."""

    def to_representation(self, value) -> str:
        return f"{value.rate.normalize():f}"

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            raise serializers.ValidationError(_("Give the TGC rate in percent, e.g. 22."))
        return str(data)


class PurchaseRequestLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    description = serializers.CharField(max_length=300)
    quantity = serializers.CharField(
        max_length=30,
        help_text=_('A positive number with at most three decimals, as a string ("2.5").'),
    )
    unit_price = FrancsSerializerField(
        amount_label=_("The unit price"),
        help_text=_("Whole francs before tax, more than 0."),
    )
    tax_rate = TaxRatePercentField()
    budget_line = serializers.PrimaryKeyRelatedField(
        queryset=BudgetLine.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Optional while the request is a draft; required to submit it."),
    )
    budget_line_code = serializers.CharField(
        source="budget_line.code", read_only=True, allow_null=True, default=None
    )
    amount_ht = serializers.IntegerField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["quantity"] = f"{instance.quantity:.3f}"
        return data


class TaxLineSerializer(serializers.Serializer):
    rate = serializers.SerializerMethodField()
    base = serializers.IntegerField()
    tax = serializers.IntegerField()

    def get_rate(self, line) -> str:
        return f"{line.rate.normalize():f}"


class CommitmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    amount = serializers.IntegerField()


class PurchaseRequestSerializer(serializers.Serializer):
    """A purchase request as the detail page shows it."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    year = serializers.IntegerField(source="fiscal_year.year", read_only=True)
    state = serializers.CharField(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    supplier = serializers.IntegerField(source="supplier_id", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    subject = serializers.CharField(read_only=True)
    justification = serializers.CharField(read_only=True)
    amount_ht = serializers.IntegerField(read_only=True)
    amount_tax = serializers.IntegerField(read_only=True)
    amount_ttc = serializers.IntegerField(read_only=True)
    tax_by_rate = serializers.SerializerMethodField()
    over_threshold = serializers.BooleanField(read_only=True, default=False)
    lines = PurchaseRequestLineSerializer(many=True, read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    decided_at = serializers.DateTimeField(read_only=True)
    decision_reason = serializers.CharField(read_only=True)
    transmitted_by = serializers.CharField(
        source="transmitted_by.username", read_only=True, allow_null=True, default=None
    )
    transmitted_at = serializers.DateTimeField(read_only=True)
    transmit_note = serializers.CharField(read_only=True)
    cancelled_by = serializers.CharField(
        source="cancelled_by.username", read_only=True, allow_null=True, default=None
    )
    cancelled_at = serializers.DateTimeField(read_only=True)
    cancel_reason = serializers.CharField(read_only=True)
    commitment = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(TaxLineSerializer(many=True))
    def get_tax_by_rate(self, request) -> list:
        from ..selectors.requests import tax_totals

        return TaxLineSerializer(tax_totals(request).by_rate, many=True).data

    @extend_schema_field(CommitmentRefSerializer(allow_null=True))
    def get_commitment(self, request):
        commitment = getattr(request, "commitment", None)
        if commitment is None:
            return None
        return CommitmentRefSerializer(commitment).data

    def get_url(self, request) -> str:
        http = self.context.get("request")
        path = request.get_absolute_url()
        return http.build_absolute_uri(path) if http else path


class PurchaseRequestWriteSerializer(serializers.Serializer):
    """The body of a creation (POST) or a change (PUT, PATCH) of a draft: the lines
    sent replace the request's lines."""

    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    subject = serializers.CharField(max_length=200)
    justification = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    lines = PurchaseRequestLineSerializer(many=True, allow_empty=True)


class ApproveSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=_(
            "Needed when the available amount is short and the approver may override it "
            "(the IT director): kept in the ledger."
        ),
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

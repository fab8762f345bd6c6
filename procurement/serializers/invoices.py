"""Serializers of the invoices API: the invoice (its lines nested when read alone), the
body of an invoice to enter, and the bodies of its actions.

XPF amounts are integers (francs); amounts in the invoice's currency, the exchange
rate and quantities are decimal strings. Amounts, rates and quantities are taken as
typed and checked by procurement.services.invoices, whose refusals are French.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Supplier

QUANTITY = {"max_digits": 14, "decimal_places": 3}
CURRENCY_AMOUNT = {"max_digits": 18, "decimal_places": 2}


def username(user) -> str | None:
    return user.get_username() if user else None


class InvoiceLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    description = serializers.CharField()
    commitment_line = serializers.IntegerField(source="commitment_line_id", allow_null=True)
    budget_line = serializers.IntegerField(source="budget_line_id")
    budget_line_code = serializers.CharField(source="budget_line.code")
    quantity = serializers.DecimalField(allow_null=True, **QUANTITY)
    tax_rate = serializers.DecimalField(source="tax_rate.rate", max_digits=5, decimal_places=2)
    amount_ht = serializers.IntegerField(help_text=_("Before tax, in XPF francs."))
    amount_ht_currency = serializers.DecimalField(
        help_text=_("Before tax, in the invoice's currency."), **CURRENCY_AMOUNT
    )


class InvoiceSerializer(serializers.Serializer):
    """An invoice as the list shows it (no lines: the list never reads them)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    year = serializers.IntegerField(source="fiscal_year.year")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    supplier = serializers.IntegerField(source="supplier_id")
    supplier_name = serializers.CharField(source="supplier.name")
    supplier_ridet = serializers.CharField(source="supplier.ridet")
    supplier_number = serializers.CharField()
    commitment = serializers.IntegerField(source="commitment_id", allow_null=True)
    commitment_number = serializers.CharField(
        source="commitment.number", allow_null=True, default=None
    )
    invoice_date = serializers.DateField()
    received_on = serializers.DateField()
    due_on = serializers.DateField()
    days_late = serializers.SerializerMethodField()
    payment_date = serializers.DateField(allow_null=True)
    currency = serializers.CharField()
    exchange_rate = serializers.DecimalField(max_digits=14, decimal_places=6)
    amount_ht = serializers.IntegerField()
    amount_tax = serializers.IntegerField()
    amount_ttc = serializers.IntegerField()
    amount_ht_currency = serializers.DecimalField(**CURRENCY_AMOUNT)
    amount_tax_currency = serializers.DecimalField(**CURRENCY_AMOUNT)
    amount_ttc_currency = serializers.DecimalField(**CURRENCY_AMOUNT)
    entered_at = serializers.DateTimeField()
    liquidated_at = serializers.DateTimeField(allow_null=True)
    validated_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_late(self, invoice) -> int | None:
        """Days past the due date of an unpaid, live invoice; null otherwise."""
        late = getattr(invoice, "days_late", None)
        return late.days if late is not None and late.days > 0 else None


class InvoiceDetailSerializer(InvoiceSerializer):
    """An invoice with its lines and who did what."""

    entered_by = serializers.SerializerMethodField()
    liquidated_by = serializers.SerializerMethodField()
    validated_by = serializers.SerializerMethodField()
    cancelled_by = serializers.SerializerMethodField()
    lines = InvoiceLineSerializer(many=True)

    def get_entered_by(self, invoice) -> str:
        return username(invoice.entered_by)

    def get_liquidated_by(self, invoice) -> str | None:
        return username(invoice.liquidated_by)

    def get_validated_by(self, invoice) -> str | None:
        return username(invoice.validated_by)

    def get_cancelled_by(self, invoice) -> str | None:
        return username(invoice.cancelled_by)


class InvoiceLineInputSerializer(serializers.Serializer):
    description = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text=_("Optional on a matched line: the commitment line's description."),
    )
    amount_ht = serializers.CharField(
        max_length=30,
        help_text=_(
            "Before tax, in the invoice's currency, as a decimal string: whole francs in "
            "XPF, 2 decimals at most otherwise."
        ),
    )
    tax_rate = serializers.CharField(
        max_length=10, help_text=_("The TGC rate in percent (22, 11, 6, 3 or 0).")
    )
    quantity = serializers.CharField(
        max_length=20,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("Required when the commitment line is ordered by quantity."),
    )
    commitment_line = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The matched commitment line's id.")
    )
    budget_line = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("A direct invoice line's budget line id.")
    )


class InvoiceInputSerializer(serializers.Serializer):
    """An invoice to enter: matched to a commitment's lines, or direct (no commitment,
    each line with its budget line)."""

    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_number = serializers.CharField(max_length=60)
    invoice_date = serializers.DateField()
    received_on = serializers.DateField()
    currency = serializers.CharField(max_length=3, default="XPF")
    exchange_rate = serializers.CharField(
        max_length=20,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("XPF for 1 unit; required for currencies other than XPF and EUR."),
    )
    commitment = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The commitment's id; none: direct.")
    )
    lines = InvoiceLineInputSerializer(many=True, allow_empty=False)
    total_ttc = serializers.CharField(
        max_length=30,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_(
            "Optional control: the total with tax printed on the supplier's invoice, in its "
            "currency (whole francs in XPF, 2 decimals at most otherwise). When given, it must "
            "equal the total computed from the lines, or nothing is recorded."
        ),
    )

    def service_lines(self) -> list[dict]:
        return [dict(line) for line in self.validated_data["lines"]]


class LiquidateInputSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=_("To commit beyond the available amount, by whom may."),
    )


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class PaymentInputSerializer(serializers.Serializer):
    payment_date = serializers.DateField()

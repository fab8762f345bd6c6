"""Serializers of the suppliers API: the supplier as read, and the body of a creation or
an update (types only: the rules are procurement.services.suppliers')."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Supplier


class SupplierSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:supplier-detail")

    class Meta:
        model = Supplier
        fields = (
            "id",
            "url",
            "name",
            "ridet",
            "address",
            "contact_name",
            "email",
            "phone",
            "payment_terms_days",
            "bank_name",
            "bank_account",
            "is_active",
            "created_at",
        )
        read_only_fields = fields


class SupplierWriteSerializer(serializers.Serializer):
    """What a client sends; on PATCH only the fields given change. The RIDET is
    normalised (`1234567.001`), the bank account checked (RIB key or IBAN) by the service."""

    name = serializers.CharField(label=_("Name"), max_length=200)
    ridet = serializers.CharField(label=_("RIDET"), max_length=30)
    address = serializers.CharField(
        label=_("Address"), max_length=1000, required=False, allow_blank=True, default=""
    )
    contact_name = serializers.CharField(
        label=_("Contact"), max_length=120, required=False, allow_blank=True, default=""
    )
    email = serializers.CharField(
        label=_("E-mail"), max_length=254, required=False, allow_blank=True, default=""
    )
    phone = serializers.CharField(
        label=_("Phone"), max_length=40, required=False, allow_blank=True, default=""
    )
    payment_terms_days = serializers.IntegerField(
        label=_("Payment terms (days)"), required=False, default=30
    )
    bank_name = serializers.CharField(
        label=_("Bank"), max_length=120, required=False, allow_blank=True, default=""
    )
    bank_account = serializers.CharField(
        label=_("Bank account (RIB or IBAN)"),
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
    )

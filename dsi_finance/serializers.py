"""Shared serializer fields of the API.

`FrancsSerializerField` is the API's reading of an amount in francs CFP, the same as
the forms' (dsi_finance.forms.FrancsField): a JSON integer, or a string read by
dsi_finance.money.parse_francs (`"250 000"`, `"250.000"`, `"250'000"` are 250 000;
`"250.5"` is refused with a French message, never read as 250 as DRF's IntegerField
would read `"250.000"`). A float is taken only when whole (250000.0); booleans never.
Sign, zero and size are the services' rules, not the field's.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .money import parse_francs

FRANCS_SCHEMA = {
    "oneOf": [
        {"type": "integer", "format": "int64", "example": 250000},
        {"type": "string", "example": "250 000"},
    ],
    "description": "Whole francs CFP: an integer, or a string grouped by thousands "
    '("250 000", "250.000", "250\'000"). Decimals are refused.',
}


@extend_schema_field(FRANCS_SCHEMA)
class FrancsSerializerField(serializers.Field):
    default_error_messages = {
        "invalid": _(
            'An amount in francs is an integer (250000) or a string ("250 000", "250.000").'
        ),
        "blank": _("Give an amount in francs."),
    }

    def __init__(self, *, amount_label=None, **kwargs):
        super().__init__(**kwargs)
        self.amount_label = amount_label

    def to_internal_value(self, data) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip():
            self.fail("blank")
        try:
            francs = parse_francs(data, label=self.amount_label)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        if francs is None:
            self.fail("blank")
        return francs

    def to_representation(self, value) -> int:
        return int(value)

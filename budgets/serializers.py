"""Serializers of the budgets API (budgets/api.py): read-only shapes of what the
selectors return, and the bodies the actions accept. Amounts are integer XPF francs;
rates are percentages with one decimal.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import selectors


class RefSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class AccountRefSerializer(serializers.Serializer):
    number = serializers.CharField()
    label = serializers.CharField()


def _rate_field(**kwargs) -> serializers.DecimalField:
    """A percentage with one decimal, a JSON number; null when nothing is opened."""
    return serializers.DecimalField(
        max_digits=12, decimal_places=1, coerce_to_string=False, allow_null=True, **kwargs
    )


class FiscalYearSerializer(serializers.Serializer):
    """A year with its figures, the sums of its lines (set as `figures` by the view)."""

    id = serializers.IntegerField()
    year = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    control_level = serializers.CharField()
    control_mode = serializers.CharField()
    opened = serializers.IntegerField(source="figures.opened")
    committed = serializers.IntegerField(source="figures.committed")
    liquidated = serializers.IntegerField(source="figures.liquidated")
    to_liquidate = serializers.IntegerField(source="figures.to_liquidate")
    available = serializers.IntegerField(source="figures.available")
    commitment_rate = serializers.FloatField(source="figures.commitment_rate", allow_null=True)
    execution_rate = serializers.FloatField(source="figures.execution_rate", allow_null=True)


class BudgetLineSerializer(serializers.Serializer):
    """A line of `selectors.line_availability`, with its figures."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()
    year = serializers.IntegerField(source="fiscal_year.year")
    section = serializers.CharField()
    section_label = serializers.CharField(source="get_section_display")
    chapter = RefSerializer(source="nature_account.chapter")
    account = AccountRefSerializer(source="nature_account")
    cost_centre = RefSerializer()
    project = RefSerializer(allow_null=True)
    opened = serializers.IntegerField()
    committed = serializers.IntegerField()
    liquidated = serializers.IntegerField()
    to_liquidate = serializers.IntegerField(source="to_liquidate_amount")
    available = serializers.IntegerField(source="available_amount")
    commitment_rate = _rate_field()
    execution_rate = _rate_field()


class DocumentSerializer(serializers.Serializer):
    """The document behind a ledger entry (a revision, a transfer, a commitment…)."""

    type = serializers.CharField(help_text=_('"app_label.model", e.g. "budgets.budgetrevision".'))
    id = serializers.IntegerField()
    label = serializers.CharField(allow_null=True, help_text=_("Null if the document is gone."))
    url = serializers.URLField(
        allow_null=True, help_text=_("Its page in the application, when it has one.")
    )


class LedgerEntrySerializer(serializers.Serializer):
    """An entry of `selectors.line_ledger`; the view puts the entries' documents,
    fetched once per type (`selectors.documents_of`), in the context."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    amount = serializers.IntegerField()
    available_after = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username")
    document = serializers.SerializerMethodField()
    reason = serializers.CharField()

    @extend_schema_field(DocumentSerializer)
    def get_document(self, entry) -> dict:
        content_type = entry.document_type
        document = self.context["documents"].get((content_type.pk, entry.document_id))
        url = None
        if document is not None and hasattr(document, "get_absolute_url"):
            url = self.context["request"].build_absolute_uri(document.get_absolute_url())
        return {
            "type": f"{content_type.app_label}.{content_type.model}",
            "id": entry.document_id,
            "label": str(document) if document is not None else None,
            "url": url,
        }


class LedgerQuerySerializer(serializers.Serializer):
    figure = serializers.ChoiceField(choices=list(selectors.FIGURE_KINDS), required=False)


class RevisionItemSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="budget_line_id")
    line_code = serializers.CharField(source="budget_line.code")
    line_label = serializers.CharField(source="budget_line.label")
    amount = serializers.IntegerField(help_text=_("BP: the amount; DM: the signed change."))
    justification = serializers.CharField()


class RevisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    year = serializers.IntegerField(source="fiscal_year.year")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    vote_date = serializers.DateField(allow_null=True)
    vote_reference = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    submitted_by = serializers.CharField(source="submitted_by.username", allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    voted_by = serializers.CharField(source="voted_by.username", allow_null=True)
    voted_at = serializers.DateTimeField(allow_null=True)
    item_count = serializers.IntegerField()
    total = serializers.IntegerField(help_text=_("The sum of the items' amounts."))
    items = RevisionItemSerializer(many=True)


class VoteSerializer(serializers.Serializer):
    vote_date = serializers.DateField(label=_("Vote date"))
    vote_reference = serializers.CharField(label=_("Vote reference"), max_length=100)

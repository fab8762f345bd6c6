"""API of the commitments (/api/v1/commitments/): list and read them with their lines,
open a recurring contract's commitment (Idempotency-Key honoured), close one.

The same capabilities as the screens (procurement.access.COMMITMENTS to read,
open_commitment to open and close); every change goes through
procurement.services.commitments; a refused change is 400 {"detail": "<French>"}.
No DELETE: a commitment is closed or cancelled, never deleted.
"""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from .. import access
from ..models import Commitment, CommitmentLine
from ..selectors.commitments import commitment_list
from ..serializers.commitments import (
    CloseInputSerializer,
    CommitmentSerializer,
    RecurringCommitmentInputSerializer,
)
from ..services import commitments as services


class CommitmentApiFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="fiscal_year__year", label=_("Fiscal year"))
    kind = django_filters.ChoiceFilter(choices=Commitment.Kind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(choices=Commitment.State.choices, label=_("State"))
    supplier = django_filters.NumberFilter(field_name="supplier_id", label=_("Supplier id"))
    budget_line = django_filters.NumberFilter(
        field_name="lines__budget_line_id", label=_("Budget line id"), distinct=True
    )
    remaining = django_filters.BooleanFilter(
        method="with_remainder", label=_("With a remainder (true) or without (false)")
    )

    def with_remainder(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(remaining__gt=0) if value else queryset.filter(remaining__lte=0)


@extend_schema_view(
    list=extend_schema(summary=_("Commitments and their lines")),
    retrieve=extend_schema(summary=_("A commitment and its lines")),
    create=extend_schema(
        summary=_("Open a recurring contract's commitment"),
        request=RecurringCommitmentInputSerializer,
        responses={201: CommitmentSerializer, 400: OpenApiResponse(description=_("Refused"))},
    ),
)
class CommitmentViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Commitments (engagements) with their lines: committed, liquidated, released and
    the remainder, in integer XPF francs before tax."""

    serializer_class = CommitmentSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = CommitmentApiFilter
    action_capabilities = {"create": "open_commitment", "close": "open_commitment"}

    @property
    def required_capability(self):
        """Read by HasRolePermission: the screens' capabilities."""
        return self.action_capabilities.get(self.action, access.COMMITMENTS)

    def get_queryset(self):
        lines = CommitmentLine.objects.select_related("budget_line", "tax_rate").order_by(
            "position"
        )
        return (
            commitment_list(actor=self.request.user)
            .select_related("created_by", "closed_by")
            .prefetch_related(Prefetch("lines", queryset=lines))
            .order_by("-created_at", "-pk")
        )

    def get_create_serializer(self, data):
        return RecurringCommitmentInputSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        data = serializer.validated_data
        return services.commitment_open_recurring(
            user=self.request.user,
            supplier=data["supplier"],
            subject=data["subject"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            lines=serializer.line_specs(),
            override_reason=data.get("override_reason", ""),
        )

    @extend_schema(
        summary=_("Close a commitment: its remainder goes back to the available amount"),
        request=CloseInputSerializer,
        responses={200: CommitmentSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def close(self, request, pk=None):
        commitment = self.get_object()
        body = CloseInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.commitment_close(
            user=request.user, commitment=commitment, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=commitment.pk)).data)


ROUTES = [("commitments", CommitmentViewSet, "commitment")]

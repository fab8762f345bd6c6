"""Budgets API (/api/v1/): fiscal years, budget lines with their figures, ledger, revisions.

ROUTES is read by dsi_finance/api_urls.py, which registers each viewset on the
project router.

The endpoints show what the screens show, with the same capabilities: every
figure comes from budgets.selectors (line_availability and its aggregates), and
every change goes through budgets.services. Amounts are integer XPF francs.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.filters import FrancsFilter

from . import selectors, services
from .models import BudgetRevision, Section
from .serializers import (
    BudgetLineSerializer,
    FiscalYearSerializer,
    LedgerEntrySerializer,
    LedgerQuerySerializer,
    RevisionSerializer,
    VoteSerializer,
)

# ---------------------------------------------------------------------------
# Shared pieces


class BudgetPagination(PageNumberPagination):
    """The project's page size (REST_FRAMEWORK["PAGE_SIZE"]), which a caller may raise
    with ?page_size= up to 1 000 rows (a year's lines in a few calls)."""

    page_size_query_param = "page_size"
    max_page_size = 1000


# ---------------------------------------------------------------------------
# Fiscal years


@extend_schema_view(
    list=extend_schema(summary=_("Fiscal years and their figures")),
    retrieve=extend_schema(summary=_("A fiscal year and its figures")),
)
class FiscalYearViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Fiscal years with the totals of their lines (opened, committed, liquidated,
    to liquidate, available), in integer XPF francs."""

    required_capability = "view_budget"
    serializer_class = FiscalYearSerializer

    def get_queryset(self):
        return selectors.fiscal_years(actor=self.request.user)

    def list(self, request, *args, **kwargs):
        years = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # One aggregate query for the page's years, grouped by year.
        lines = selectors.line_availability(actor=request.user).filter(fiscal_year__in=years)
        figures = {row.key[0]: row.figures for row in selectors.availability_by(lines, "year")}
        for year in years:
            year.figures = figures.get(year.year, selectors.Figures())
        return self.get_paginated_response(self.get_serializer(years, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        year = self.get_object()
        year.figures = selectors.availability_totals(
            selectors.line_availability(actor=request.user, fiscal_year=year)
        )
        return Response(self.get_serializer(year).data)


# ---------------------------------------------------------------------------
# Budget lines and their ledger


class BudgetLineFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="fiscal_year__year", label=_("Fiscal year"))
    section = django_filters.ChoiceFilter(choices=Section.choices, label=_("Section"))
    chapter = django_filters.CharFilter(
        field_name="nature_account__chapter__code", label=_("Chapter code")
    )
    account = django_filters.CharFilter(
        field_name="nature_account__number", label=_("Account number")
    )
    cost_centre = django_filters.CharFilter(
        field_name="cost_centre__code", label=_("Cost centre code")
    )
    project = django_filters.CharFilter(field_name="project__code", label=_("Project code"))
    search = django_filters.CharFilter(method="filter_search", label=_("Code or label contains"))
    available_lt = FrancsFilter(
        field_name="available_amount", lookup_expr="lt", label=_("Available amount below")
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("fiscal_year__year", "year"),
            ("code", "code"),
            ("label", "label"),
            ("opened", "opened"),
            ("committed", "committed"),
            ("liquidated", "liquidated"),
            ("to_liquidate_amount", "to_liquidate"),
            ("available_amount", "available"),
            ("execution_rate", "execution_rate"),
        ),
        label=_("Order by"),
    )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(label__icontains=value))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("ordering"):
            # Equal figures still come in a fixed order, so that pages never overlap.
            queryset = queryset.order_by(*queryset.query.order_by, "pk")
        return queryset


@extend_schema_view(
    list=extend_schema(summary=_("Budget lines and their figures")),
    retrieve=extend_schema(summary=_("A budget line and its figures")),
)
class BudgetLineViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Budget lines with their figures in integer XPF francs: opened credits,
    committed, liquidated, to liquidate (committed − liquidated), available
    (opened − committed), and the commitment and execution rates in percent."""

    required_capability = "view_budget"
    serializer_class = BudgetLineSerializer
    pagination_class = BudgetPagination
    filter_backends = (DjangoFilterBackend,)
    filterset_class = BudgetLineFilter

    def get_queryset(self):
        return selectors.line_availability(actor=self.request.user)

    @extend_schema(
        summary=_("The ledger entries of a budget line"),
        parameters=[
            OpenApiParameter(
                "figure",
                OpenApiTypes.STR,
                enum=list(selectors.FIGURE_KINDS),
                description=_("Only the entries that make this figure."),
            ),
        ],
        responses=LedgerEntrySerializer(many=True),
        filters=False,
    )
    @action(detail=True, filter_backends=(), pagination_class=BudgetPagination)
    def ledger(self, request, pk=None):
        """The line's ledger, oldest first: every movement of its credits, the user,
        the document behind it and the available amount after it."""
        line = self.get_object()
        query = LedgerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figure = query.validated_data.get("figure")
        entries = selectors.line_ledger(
            actor=request.user,
            line=line,
            kinds=selectors.FIGURE_KINDS[figure] if figure else None,
        )
        page = self.paginate_queryset(entries)
        serializer = LedgerEntrySerializer(
            page,
            many=True,
            context={"request": request, "documents": selectors.documents_of(page)},
        )
        return self.get_paginated_response(serializer.data)


# ---------------------------------------------------------------------------
# Revisions


class RevisionFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="fiscal_year__year", label=_("Fiscal year"))
    kind = django_filters.ChoiceFilter(choices=BudgetRevision.Kind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(choices=BudgetRevision.State.choices, label=_("State"))


@extend_schema_view(
    list=extend_schema(summary=_("Budget revisions (BP, DM1, DM2)")),
    retrieve=extend_schema(summary=_("A budget revision and its lines")),
)
class RevisionViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """The BP and the amending decisions of each year, with their lines; the IT
    director submits them and records their vote."""

    serializer_class = RevisionSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = RevisionFilter
    # The capability of each action, the same as the revision screens.
    action_capabilities = {"submit": "submit_budget", "vote": "submit_budget"}

    @property
    def required_capability(self) -> str:
        """Read by HasRolePermission: view_all to read, submit_budget to submit or vote."""
        return self.action_capabilities.get(self.action, "view_all")

    def get_queryset(self):
        return selectors.revisions(actor=self.request.user).prefetch_related("items__budget_line")

    def _revision_response(self, revision) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=revision.pk)).data)

    @extend_schema(
        summary=_("Submit a draft revision"),
        request=None,
        responses={200: RevisionSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def submit(self, request, pk=None):
        """Draft → submitted (budgets.services.revision_submit)."""
        revision = services.revision_submit(user=request.user, revision=self.get_object())
        return self._revision_response(revision)

    @extend_schema(
        summary=_("Record the vote of a submitted revision"),
        request=VoteSerializer,
        responses={200: RevisionSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def vote(self, request, pk=None):
        """Submitted → voted: the credits are posted to the ledger
        (budgets.services.revision_vote)."""
        revision = self.get_object()
        body = VoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revision = services.revision_vote(
            user=request.user, revision=revision, **body.validated_data
        )
        return self._revision_response(revision)


ROUTES: list[tuple[str, type, str]] = [
    ("fiscal-years", FiscalYearViewSet, "fiscal-year"),
    ("budget-lines", BudgetLineViewSet, "budget-line"),
    ("revisions", RevisionViewSet, "revision"),
]

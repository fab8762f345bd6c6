"""GET /api/v1/dashboard/?year=: the figures of the director's dashboard, from the same
selector as the page (reporting.selectors.dashboard). Amounts are integer XPF francs,
rates are percentages with one decimal (JSON numbers, as in the budgets API), and every
figure carries the URL of the list behind it (a page of the application)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dsi_finance.api_permissions import HasRolePermission

from ..selectors.dashboard import UnknownYear, dashboard, fiscal_year_from


def _rate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12, decimal_places=1, coerce_to_string=False, allow_null=True, **kwargs
    )


class DashboardFigureSerializer(serializers.Serializer):
    """An amount (francs) and its value at the same date last year (null: no last year)."""

    value = serializers.IntegerField()
    last_year = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    last_year_url = serializers.CharField(allow_null=True)


class DashboardRateFigureSerializer(serializers.Serializer):
    """A rate in percent, one decimal (null when nothing is opened)."""

    value = _rate()
    last_year = _rate()
    url = serializers.CharField()
    last_year_url = serializers.CharField(allow_null=True)


class DashboardFiguresSerializer(serializers.Serializer):
    opened = DashboardFigureSerializer()
    committed = DashboardFigureSerializer()
    liquidated = DashboardFigureSerializer()
    available = DashboardFigureSerializer()
    execution_rate = DashboardRateFigureSerializer()


class DashboardMonthSerializer(serializers.Serializer):
    month = serializers.IntegerField()
    liquidated = serializers.IntegerField(allow_null=True, help_text=_("cumulative"))
    linear = serializers.IntegerField()
    last_year = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    last_year_url = serializers.CharField(allow_null=True)


class DashboardBarSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    opened = serializers.IntegerField()
    committed = serializers.IntegerField()
    liquidated = serializers.IntegerField()
    to_liquidate = serializers.IntegerField()
    available = serializers.IntegerField()
    url = serializers.CharField()


class DashboardRiskLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line.pk")
    code = serializers.CharField(source="line.code")
    label = serializers.CharField(source="line.label")
    opened = serializers.IntegerField(source="line.opened")
    committed = serializers.IntegerField(source="line.committed")
    available = serializers.IntegerField(source="line.available_amount")
    forecast = serializers.IntegerField(allow_null=True)
    headroom = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=("available", "forecast", "both"))
    url = serializers.CharField()


class DashboardWaitingRequestsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.IntegerField(help_text=_("before tax"))
    url = serializers.CharField()


class DashboardLateInvoicesSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.IntegerField(help_text=_("with tax"))
    url = serializers.CharField()
    average_payment_days = _rate()
    paid_count = serializers.IntegerField()
    delays_url = serializers.CharField()


class DashboardSerializer(serializers.Serializer):
    year = serializers.IntegerField(source="fiscal_year.year")
    previous_year = serializers.IntegerField(source="previous_year.year", allow_null=True)
    today = serializers.DateField()
    last_year_as_of = serializers.DateField(source="as_of", allow_null=True)
    figures = DashboardFiguresSerializer()
    months = DashboardMonthSerializer(many=True)
    sections = DashboardBarSerializer(many=True)
    chapters = DashboardBarSerializer(many=True)
    at_risk = DashboardRiskLineSerializer(many=True)
    at_risk_url = serializers.CharField()
    requests = DashboardWaitingRequestsSerializer()
    invoices = DashboardLateInvoicesSerializer()


class DashboardView(APIView):
    """The dashboard of a fiscal year (the current one by default)."""

    permission_classes = (HasRolePermission,)
    required_capability = "view_dashboard"

    @extend_schema(
        summary=_("The director's dashboard"),
        parameters=[
            OpenApiParameter(
                "year", OpenApiTypes.INT, description=_("Fiscal year (the current one by default)")
            )
        ],
        responses=DashboardSerializer,
    )
    def get(self, request):
        try:
            year = fiscal_year_from(request.query_params.get("year"))
        except UnknownYear as error:
            message = _("The fiscal year “%(year)s” does not exist.") % {"year": error.year}
            raise ValidationError({"year": [message]}) from error
        if year is None:
            raise ValidationError({"year": [_("No fiscal year exists yet.")]})
        board = dashboard(actor=request.user, fiscal_year=year)
        return Response(DashboardSerializer(board).data)


URLPATTERNS = [path("dashboard/", DashboardView.as_view(), name="dashboard")]

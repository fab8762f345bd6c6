"""API of the controlling reports: /api/v1/reports/.

The download_report holders (pilotage, direction, controle) list and read every
report and download its file; request_report (pilotage) creates one (with an
optional `Idempotency-Key` header) and retries a failed one. Creating answers
201 with the report still `queued`: the file is built in the background, poll
the report (its `status`, `progress`) until `done`, then follow `download_url`.
"""

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dsi_finance.api import ServiceErrorsMixin
from dsi_finance.idempotency import IdempotentCreateMixin

from .. import reports as catalogue
from ..models import Report
from ..selectors import reports as selectors
from ..services import reports as services

DOWNLOAD = "download_report"
REQUEST = "request_report"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=_(
        "A unique text per request (200 characters at most): the same key sent again "
        "returns the report requested the first time (200) instead of building another."
    ),
)


class NoFileYet(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This report has no file yet.")
    default_code = "not_ready"


class ReportSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    format_label = serializers.CharField(source="get_format_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    notice = serializers.SerializerMethodField(
        help_text=_("Why the report waits, when the background workers cannot be reached.")
    )

    class Meta:
        model = Report
        fields = (
            "id",
            "kind",
            "kind_label",
            "format",
            "format_label",
            "parameters",
            "status",
            "status_label",
            "progress",
            "progress_note",
            "requested_by",
            "requested_at",
            "enqueued_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "attempts",
            "error",
            "file_size",
            "download_url",
            "notice",
        )
        read_only_fields = fields

    def get_duration_seconds(self, report) -> float | None:
        duration = report.duration
        return round(duration.total_seconds(), 3) if duration is not None else None

    def get_download_url(self, report) -> str | None:
        if report.status != Report.Status.DONE:
            return None
        url = reverse("api:report-download", args=[report.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_notice(self, report) -> str | None:
        return services.report_waiting_message(report)


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("monthly_execution, variance, provisions or disco"))
    format = serializers.CharField(help_text=_("xlsx or pdf"))
    parameters = serializers.JSONField(
        required=False,
        default=dict,
        help_text=_('The kind\'s parameters, e.g. {"year": 2026, "month": 10}.'),
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("Reports"),
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Report.Kind.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Report.Status.values),
        ],
    ),
    retrieve=extend_schema(summary=_("A report: status, progress, timings")),
    create=extend_schema(
        summary=_("Request a report"),
        request=ReportRequestSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: ReportSerializer,
            200: OpenApiResponse(ReportSerializer, description=_("Replay of the same key")),
            400: OpenApiResponse(description=_("Refused")),
        },
    ),
)
class ReportViewSet(
    ServiceErrorsMixin,
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Controlling reports built in the background. `?kind=` and `?status=` filter the
    list. A report goes queued → running → done (its file downloadable) or failed (its
    `error` says why; `retry` queues it again)."""

    serializer_class = ReportSerializer
    required_capability = DOWNLOAD
    required_capabilities = {"POST": REQUEST}

    def get_queryset(self):
        reports = selectors.reports(actor=self.request.user)
        if self.action == "list":
            kind = self.request.query_params.get("kind")
            state = self.request.query_params.get("status")
            if kind:
                reports = reports.filter(kind=kind)
            if state:
                reports = reports.filter(status=state)
        return reports

    def get_create_serializer(self, data):
        return ReportRequestSerializer(data=data)

    def perform_idempotent_create(self, serializer):
        data = serializer.validated_data
        return services.report_request(
            user=self.request.user,
            kind=data["kind"],
            format=data["format"],
            parameters=data.get("parameters") or {},
        )

    @extend_schema(
        summary=_("Download a report's file"),
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            409: OpenApiResponse(description=_("Not built yet")),
        },
    )
    @action(detail=True, methods=["get"], filter_backends=())
    def download(self, request, pk=None):
        """The XLSX or PDF file, under its French name."""
        report = self.get_object()
        if report.status != Report.Status.DONE or not report.file:
            raise NoFileYet()
        try:
            handle = report.file.open("rb")
        except FileNotFoundError:
            raise exceptions.NotFound(_("The file of this report is missing.")) from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=services.report_download_name(report),
            content_type=catalogue.CONTENT_TYPES[report.format],
        )

    @extend_schema(
        summary=_("Retry a failed report"),
        request=None,
        responses={200: ReportSerializer, 400: OpenApiResponse(description=_("Refused"))},
    )
    @action(detail=True, methods=["post"], filter_backends=())
    def retry(self, request, pk=None):
        report = services.report_retry(user=request.user, report=self.get_object())
        report.refresh_from_db()
        return Response(self.get_serializer(report).data)


ROUTES: list[tuple[str, type, str]] = [
    ("reports", ReportViewSet, "report"),
]

"""XLSX import of a BP or DM proposal (preview, then save) and XLSX export of any revision.

The import goes in three steps: upload (the file is checked to be a readable
XLSX of the right layout and kept server-side under a random token, named in
the session), preview (every row with its status and every error, computed
again at each display) and confirm (the file is read and checked once more
under the revision's lock, then saved in one transaction, or not at all).
Nothing the browser sends back is trusted but the token.
"""

import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from dsi_finance.views import CapabilityRequiredMixin
from dsi_finance.xlsx import XLSX_CONTENT_TYPE, ImportFileError

from ..forms import RevisionImportForm
from ..models import BudgetRevision
from ..revision_import import revision_import
from ..xlsx import (
    ADDED,
    CHANGED,
    IMPORT_MAX_BYTES,
    NEW_LINE,
    UNCHANGED,
    check_revision_rows,
    expected_headers,
    read_revision_sheet,
    revision_export_filename,
    revision_workbook,
)

SESSION_KEY = "revision_imports"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
# Uploaded files not confirmed within a day are deleted at the next upload.
STALE_AFTER = 24 * 3600


# ---------------------------------------------------------------------------
# Export


class RevisionExportView(CapabilityRequiredMixin, View):
    """Any revision as XLSX, in the layout the import reads."""

    http_method_names = ["get"]
    capability = "view_all"

    def get(self, request, pk):
        revision = get_object_or_404(BudgetRevision.objects.select_related("fiscal_year"), pk=pk)
        response = HttpResponse(revision_workbook(revision), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = (
            f'attachment; filename="{revision_export_filename(revision)}"'
        )
        return response


# ---------------------------------------------------------------------------
# Where an uploaded file waits between the preview and the confirmation


def _upload_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(content: bytes) -> str:
    folder = _upload_dir()
    now = time.time()
    for old in folder.glob("*.xlsx"):
        try:
            if now - old.stat().st_mtime > STALE_AFTER:
                old.unlink()
        except FileNotFoundError:
            pass
    token = secrets.token_urlsafe(24)  # 32 characters
    (folder / f"{token}.xlsx").write_bytes(content)
    return token


def _pending(request, revision) -> dict | None:
    """The upload waiting for this revision in this session, if its file is still there."""
    pending = request.session.get(SESSION_KEY, {}).get(str(revision.pk))
    if not pending or not TOKEN.fullmatch(pending.get("token", "")):
        return None
    if not (_upload_dir() / f"{pending['token']}.xlsx").exists():
        return None
    return pending


def _content(pending: dict) -> bytes:
    try:
        return (_upload_dir() / f"{pending['token']}.xlsx").read_bytes()
    except FileNotFoundError:
        # Confirmed meanwhile (a second click) or cleaned up: as if expired.
        raise ImportFileError(
            _("The file to import has changed or expired: check the preview again."),
            code="expired",
        ) from None


def _forget(request, revision) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    pending = uploads.pop(str(revision.pk), None)
    request.session[SESSION_KEY] = uploads
    if pending and TOKEN.fullmatch(pending.get("token", "")):
        (_upload_dir() / f"{pending['token']}.xlsx").unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# Upload, preview, confirm


class _DraftImportMixin(CapabilityRequiredMixin):
    capability = "prepare_budget"

    def dispatch(self, request, *args, **kwargs):
        allowed = request.method.lower() in self.http_method_names
        if not (request.user.is_authenticated and self.has_permission() and allowed):
            # Anonymous, wrong role (403) or wrong method (405): the usual answers.
            return super().dispatch(request, *args, **kwargs)
        self.revision = get_object_or_404(
            BudgetRevision.objects.select_related("fiscal_year"), pk=kwargs["pk"]
        )
        if self.revision.state != BudgetRevision.State.DRAFT:
            messages.error(
                request,
                _("The %(revision)s is %(state)s: it can no longer be changed.")
                % {
                    "revision": self.revision,
                    "state": self.revision.get_state_display().lower(),
                },
            )
            return redirect(self.revision)
        return super().dispatch(request, *args, **kwargs)

    def upload_context(self, form) -> dict:
        return {
            "revision": self.revision,
            "form": form,
            "headers": expected_headers(),
            "max_size": IMPORT_MAX_BYTES,
        }


class RevisionImportView(_DraftImportMixin, View):
    """The upload form; a readable file is kept and the preview shown."""

    http_method_names = ["get", "post"]

    def get(self, request, pk):
        return render(
            request, "budgets/revision_import.html", self.upload_context(RevisionImportForm())
        )

    def post(self, request, pk):
        form = RevisionImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, "budgets/revision_import.html", self.upload_context(form))
        _forget(request, self.revision)
        uploads = request.session.get(SESSION_KEY, {})
        uploads[str(self.revision.pk)] = {
            "token": _store(form.content),
            "replace": form.replace,
            "name": form.cleaned_data["file"].name[:200],
        }
        request.session[SESSION_KEY] = uploads
        return redirect("budgets:revision-import-preview", pk=self.revision.pk)


def _preview_context(revision, pending, *, errors_from_confirm=()) -> dict:
    rows = read_revision_sheet(_content(pending))
    check = check_revision_rows(revision, rows, replace=pending["replace"])
    return {
        "revision": revision,
        "pending": pending,
        "check": check,
        "counts": {
            "new_line": check.count(NEW_LINE),
            "added": check.count(ADDED),
            "changed": check.count(CHANGED),
            "unchanged": check.count(UNCHANGED),
        },
        "confirm_errors": list(errors_from_confirm),
        "upload_form": RevisionImportForm(initial={"mode": _mode(pending)}),
        "max_size": IMPORT_MAX_BYTES,
    }


def _mode(pending) -> str:
    return RevisionImportForm.REPLACE if pending["replace"] else RevisionImportForm.MERGE


class RevisionImportPreviewView(_DraftImportMixin, View):
    """Every row of the waiting file with its status and errors; nothing is saved here."""

    http_method_names = ["get"]

    def get(self, request, pk):
        pending = _pending(request, self.revision)
        if pending is None:
            messages.warning(request, _("Choose the file to import first."))
            return redirect("budgets:revision-import", pk=self.revision.pk)
        try:
            context = _preview_context(self.revision, pending)
        except ImportFileError as error:
            _forget(request, self.revision)
            for message in error.messages:
                messages.error(request, message)
            return redirect("budgets:revision-import", pk=self.revision.pk)
        return render(request, "budgets/revision_import_preview.html", context)


class RevisionImportConfirmView(_DraftImportMixin, View):
    """Save the waiting file: checked again now, saved whole or not at all."""

    http_method_names = ["post"]

    def post(self, request, pk):
        pending = _pending(request, self.revision)
        if pending is None or request.POST.get("token") != pending["token"]:
            messages.error(
                request,
                _("The file to import has changed or expired: check the preview again."),
            )
            if pending is None:
                return redirect("budgets:revision-import", pk=self.revision.pk)
            return redirect("budgets:revision-import-preview", pk=self.revision.pk)
        try:
            rows = read_revision_sheet(_content(pending))
            outcome = revision_import(
                user=request.user, revision=self.revision, rows=rows, replace=pending["replace"]
            )
        except ImportFileError as error:
            _forget(request, self.revision)
            for message in error.messages:
                messages.error(request, message)
            return redirect("budgets:revision-import", pk=self.revision.pk)
        except ValidationError as error:
            # Something changed since the preview (or a rule refused a row): show it
            # again, recomputed, with what stopped the import. Nothing was saved.
            self.revision.refresh_from_db()
            if self.revision.state != BudgetRevision.State.DRAFT:
                for message in error.messages:
                    messages.error(request, message)
                return redirect(self.revision)
            try:
                context = _preview_context(
                    self.revision, pending, errors_from_confirm=error.messages
                )
            except ImportFileError as file_error:
                for message in file_error.messages:
                    messages.error(request, message)
                return redirect("budgets:revision-import", pk=self.revision.pk)
            return render(request, "budgets/revision_import_preview.html", context)
        _forget(request, self.revision)
        messages.success(
            request,
            ngettext(
                "%(revision)s: %(count)d row of the file saved",
                "%(revision)s: %(count)d rows of the file saved",
                outcome.rows,
            )
            % {"revision": self.revision, "count": outcome.rows}
            + " "
            + _(
                "(new budget lines: %(created)s; amounts entered or changed: %(set)s; "
                "unchanged: %(unchanged)s; taken out of the draft: %(removed)s)."
            )
            % {
                "created": outcome.lines_created,
                "set": outcome.items_set,
                "unchanged": outcome.unchanged,
                "removed": outcome.removed,
            },
        )
        return redirect(reverse("budgets:revision-detail", args=[self.revision.pk]))


urlpatterns = [
    path("revisions/<int:pk>/export/", RevisionExportView.as_view(), name="revision-export"),
    path("revisions/<int:pk>/import/", RevisionImportView.as_view(), name="revision-import"),
    path(
        "revisions/<int:pk>/import/preview/",
        RevisionImportPreviewView.as_view(),
        name="revision-import-preview",
    ),
    path(
        "revisions/<int:pk>/import/confirm/",
        RevisionImportConfirmView.as_view(),
        name="revision-import-confirm",
    ),
]

"""Shared PDF rendering of the reports (WeasyPrint): a template -> a PDF file.

Every report template extends templates/reporting/pdf/base.html: A4 (portrait or
landscape), in French, a header on every page with the department's name, the
report's title and the date it was built, and "Page x / y" at the foot (CSS @page
counters). The style is inline and the fonts are the system's DejaVu (found by
fontconfig), as procurement/pdf.py does; the fetcher refuses every URL but data:
URLs and files under our static directory, so that rendering never reaches the
network.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .base import Progress, no_progress


def static_root() -> Path:
    return (Path(settings.BASE_DIR) / "static").resolve()


def _fetcher():
    # Imported here: WeasyPrint is heavy to load, and only the PDF builds need it.
    from weasyprint.urls import URLFetcher

    class StaticOnlyFetcher(URLFetcher):
        """data: URLs and our static files; anything else is refused."""

        def __init__(self):
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)

        def fetch(self, url, headers=None):
            if url.startswith("file:"):
                path = Path(unquote(urlsplit(url).path)).resolve()
                if not path.is_relative_to(static_root()):
                    raise ValueError(f"Refused outside the static files: {url}")
            return super().fetch(url, headers)

    return StaticOnlyFetcher()


def operator() -> dict:
    return {"name": settings.OPERATOR_NAME, "department": settings.OPERATOR_DEPARTMENT}


def render_pdf(
    template: str,
    context: dict,
    path: Path,
    *,
    progress: Progress = no_progress,
    start: int = 60,
) -> Path:
    """Renders `template` with `context` (plus operator, built_on) into the PDF file
    `path`; reports progress from `start` to 100 percent."""
    from weasyprint import HTML

    context = {"operator": operator(), "built_at": timezone.localtime(), **context}
    with translation.override("fr"):
        html = render_to_string(template, context)
        progress(start, translation.gettext("Laying out the pages"))
        document = HTML(
            string=html, base_url=str(static_root()) + "/", url_fetcher=_fetcher()
        ).render()
        progress(start + (100 - start) * 3 // 4, translation.gettext("Writing the PDF"))
    document.write_pdf(target=str(path))
    return path

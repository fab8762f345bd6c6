"""Helpers shared by the report tests: open the built files."""

from openpyxl import load_workbook
from pypdf import PdfReader


def pdf_pages(path) -> list[str]:
    """The text of each page of a PDF (pypdf: poppler's pdftotext is not always there)."""
    return [page.extract_text() for page in PdfReader(str(path)).pages]


def pdf_text(path) -> str:
    return "\f".join(pdf_pages(path))


def sheet_rows(path, title):
    workbook = load_workbook(path)
    return workbook[title], [list(row) for row in workbook[title].iter_rows(values_only=True)]


def normalise(text: str) -> str:
    """No-break and narrow no-break spaces as plain spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")

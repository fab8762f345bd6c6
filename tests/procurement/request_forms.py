"""The purchase request form as the request pages post it (tests/procurement/
test_requests_views.py, test_amounts.py), and amounts and text as those pages write
them."""

import html

from dsi_finance.idempotency import FORM_TOKEN_FIELD
from procurement.models import TaxRate

NBSP = "\u00a0"
NNBSP = "\u202f"


def xpf(francs: int) -> str:
    """An amount as the `xpf` filter writes it: `1 234 567 F CFP`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def rate(percent: str) -> TaxRate:
    return TaxRate.objects.get(rate=percent)


def form_data(supplier, rows, *, subject="Onduleurs", token=None, total=None, **extra) -> dict:
    """The POST of the request form: the request's fields and its lines formset."""
    data = {
        "supplier": supplier.pk,
        "subject": subject,
        "justification": "Fin de garantie",
        "lines-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    if token:
        data[FORM_TOKEN_FIELD] = token
    data.update(extra)
    return data


def row(budget_line=None, quantity="1", unit_price="100 000", tax="22", description="Onduleur"):
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_rate": rate(tax).pk,
        "budget_line": budget_line.pk if budget_line else "",
    }

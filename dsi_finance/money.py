"""XPF amounts: integer francs, shown as `1 234 567 F CFP`.

The franc CFP has no decimals. Amounts are stored as integers; this module is
the one place that turns them into text, for screens (the `xpf` filter) and
later for the XLSX and PDF formatters.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# A narrow no-break space groups thousands (French typography) and a no-break
# space keeps "F CFP" on the same line as its figure.
THOUSANDS_SEPARATOR = "\u202f"
CURRENCY_SUFFIX = "\u00a0F\u00a0CFP"
EMPTY = "—"


def to_francs(value) -> int | None:
    """The value as whole francs (half rounded away from zero), or None if it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip().replace(" ", "").replace("\u202f", ""))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def group_thousands(francs: int) -> str:
    """`-1234567` -> `-1 234 567` (narrow no-break spaces)."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", THOUSANDS_SEPARATOR)


def format_xpf(value) -> str:
    """`1234567` -> `1 234 567 F CFP`; empty values -> `—`; text that is no number is kept."""
    if value is None or value == "":
        return EMPTY
    francs = to_francs(value)
    if francs is None:
        return str(value)
    return group_thousands(francs) + CURRENCY_SUFFIX

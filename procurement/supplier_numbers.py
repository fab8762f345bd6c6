"""The key of a supplier's invoice number: the same invoice typed in another format.

"F2026-01187", "f 2026/1187", "F.2026.1187" and "F2026–1187" are one invoice of
the supplier; they share the key "f20261187". The key is what the duplicate
check and the database's unique constraint compare (procurement.models.Invoice,
`supplier_number_key`).

A pure function of the text, with no import of the app's models: migration 0007
fills the existing rows with it. Changing it changes the keys of the invoices
already entered: a new migration must then refill them.
"""

import re
import unicodedata

# Separators removed: every kind of space (NFKC has turned the no-break ones into
# spaces; zero-width ones are not whitespace), every dash (Unicode category Pd, and
# the minus sign), dots, slashes and underscores.
_SEPARATOR_CHARS = "._/\\\u2044\u2215\u2212\u00b7\u200b\u200c\u200d\u2060\ufeff"
# A run of zeros opening a run of digits, keeping its last digit ("000" -> "0").
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def _is_separator(char: str) -> bool:
    return char.isspace() or char in _SEPARATOR_CHARS or unicodedata.category(char) == "Pd"


def supplier_number_key(value: str) -> str:
    """The comparable form of a supplier's invoice number.

    Folded to one form (NFKC: full-width digits, ligatures) and case, split on
    the separators, each numeric part without its leading zeros, the parts put
    back together: "F2026-01187" -> "f20261187". Zeros are removed part by part,
    before the parts are joined, so that "F2026-01187" and "F2026-1187" meet.
    An empty key means the number holds no letter or digit.
    """
    text = unicodedata.normalize("NFKC", value or "").casefold()
    parts, current = [], []
    for char in text:
        if _is_separator(char):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return "".join(_LEADING_ZEROS.sub("", part) for part in parts)

"""File sizes as French readers write them: "12,3 Ko", "4 Mo".

Django's `filesizeformat` speaks binary units in French ("12,3 Kio", "5,0 Mio"); people
here read "Ko" and "Mo". Multiples of 1 024, one decimal only when it says something.
Pages use the `file_size` template filter (dsi_finance/templatetags/file_size.py), and
messages built in Python call `format_file_size`.
"""

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

UNITS = (
    (1024**3, lambda size: _("%(size)s GB") % {"size": size}),
    (1024**2, lambda size: _("%(size)s MB") % {"size": size}),
    (1024, lambda size: _("%(size)s kB") % {"size": size}),
)


def format_file_size(value) -> str:
    """1234 -> "1,2 Ko"; 3_400_000 -> "3,2 Mo"; 512 -> "512 octets"; not a number -> "—"."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return "—"
    for unit, text in UNITS:
        if abs(size) >= unit:
            return text(floatformat(size / unit, -1))
    return ngettext("%(size)d byte", "%(size)d bytes", size) % {"size": size}

"""The `xpf` template filter (a builtin: no {% load %} needed)."""

from django import template

from dsi_finance.money import format_francs, format_xpf

register = template.Library()


@register.filter(name="xpf", is_safe=True)
def xpf(value) -> str:
    """`{{ line.available|xpf }}` -> `1 234 567 F CFP`."""
    return format_xpf(value)


@register.filter(name="francs", is_safe=True)
def francs(value) -> str:
    """`{{ line.available|francs }}` -> `1 234 567`: a list cell, whose header names the
    currency (`Disponible (F CFP)`)."""
    return format_francs(value)

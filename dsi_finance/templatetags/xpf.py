"""The `xpf` template filter (a builtin: no {% load %} needed)."""

from django import template

from dsi_finance.money import format_xpf

register = template.Library()


@register.filter(name="xpf", is_safe=True)
def xpf(value) -> str:
    """`{{ line.available|xpf }}` -> `1 234 567 F CFP`."""
    return format_xpf(value)

"""The `file_size` template filter: `{{ report.file_size|file_size }}` -> "12,3 Ko"
(dsi_finance.file_sizes: "Ko" and "Mo", not Django's "Kio" and "Mio")."""

from django import template

from dsi_finance.file_sizes import format_file_size

register = template.Library()


@register.filter(name="file_size")
def file_size(value) -> str:
    return format_file_size(value)

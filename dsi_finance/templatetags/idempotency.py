"""`{% form_token %}`: the hidden token that makes a create form record once
(`{% load idempotency %}`; the view calls dsi_finance.idempotency.once_from_form)."""

from django import template
from django.utils.html import format_html

from dsi_finance.idempotency import FORM_TOKEN_FIELD, new_form_token

register = template.Library()


@register.simple_tag
def form_token() -> str:
    """A hidden input with a fresh token: each rendering of the form is one creation."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, new_form_token()
    )

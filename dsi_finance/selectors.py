"""Reads of the shell's pages."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def user_directory(*, actor) -> QuerySet:
    """Every account with its role groups prefetched (one query for all the rows' roles).

    `actor` must hold `view_all`; the view checks it, the selector keeps the shape
    of every other selector (the acting user first)."""
    return (
        get_user_model()
        .objects.only(
            "id", "username", "first_name", "last_name", "email", "last_login", "is_active"
        )
        .prefetch_related("groups")
        .order_by("last_name", "first_name", "username")
    )

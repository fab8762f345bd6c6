"""Accounts in the admin, with their change history (roles included)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from simple_history.admin import SimpleHistoryAdmin

admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(SimpleHistoryAdmin, UserAdmin):
    history_list_display = ["is_active", "is_staff"]

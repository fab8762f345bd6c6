"""Tables of the supplier list and of the TGC rates."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dsi_finance.tables import BaseTable

from ..models import Supplier, TaxRate


def active_badge(active: bool) -> str:
    if active:
        return format_html(
            '<span class="badge text-bg-success" data-active="yes">{}</span>', _("Active")
        )
    return format_html(
        '<span class="badge text-bg-secondary" data-active="no">{}</span>', _("Deactivated")
    )


class SupplierTable(BaseTable):
    name = tables.Column(verbose_name=_("Name"), order_by=("name", "pk"))
    ridet = tables.Column(verbose_name=_("RIDET"))
    contact_name = tables.Column(verbose_name=_("Contact"), default="—")
    email = tables.EmailColumn(verbose_name=_("E-mail"), default="—")
    phone = tables.Column(verbose_name=_("Phone"), orderable=False, default="—")
    payment_terms_days = tables.Column(
        verbose_name=_("Payment terms"),
        attrs={"th": {"class": "amount"}, "td": {"class": "amount"}},
    )
    is_active = tables.Column(verbose_name=_("State"))

    class Meta(BaseTable.Meta):
        model = Supplier
        fields = (
            "name",
            "ridet",
            "contact_name",
            "email",
            "phone",
            "payment_terms_days",
            "is_active",
        )
        order_by = ("name",)
        empty_text = _("No supplier matches these filters.")
        row_attrs = {"data-supplier": lambda record: record.pk}

    def render_name(self, record):
        return format_html(
            '<a href="{}" hx-boost="false" class="fw-semibold">{}</a>',
            record.get_absolute_url(),
            record.name,
        )

    def render_payment_terms_days(self, value):
        return ngettext("%(days)s day", "%(days)s days", value) % {"days": value}

    def render_is_active(self, value):
        return active_badge(value)


class TaxRateTable(BaseTable):
    rate = tables.Column(
        verbose_name=_("Rate"), attrs={"th": {"class": "amount"}, "td": {"class": "amount"}}
    )
    label = tables.Column(verbose_name=_("Label"))
    valid_from = tables.DateColumn(verbose_name=_("Valid from"), format="d/m/Y")
    valid_until = tables.DateColumn(verbose_name=_("Valid until"), format="d/m/Y", default="—")
    in_force = tables.Column(verbose_name=_("In force today"), accessor="pk", orderable=False)

    class Meta(BaseTable.Meta):
        model = TaxRate
        fields = ("rate", "label", "valid_from", "valid_until", "in_force")
        empty_text = _("No TGC rate is recorded.")
        row_attrs = {"data-rate": lambda record: f"{record.rate.normalize():f}"}

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def render_rate(self, record):
        return str(record)

    def render_in_force(self, record):
        in_force = record.valid_from <= self.today and (
            record.valid_until is None or record.valid_until >= self.today
        )
        if in_force:
            return format_html(
                '<span class="badge text-bg-success" data-in-force="yes">{}</span>', _("In force")
            )
        return format_html(
            '<span class="badge text-bg-light" data-in-force="no">{}</span>', _("Not in force")
        )

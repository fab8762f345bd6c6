"""Change history: of the user accounts (who gave whom which role, and when), and of
any document for its detail page (`document_changes`)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import BigIntegerField
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext, pgettext
from simple_history import register
from simple_history.models import HistoricalRecords

from .money import format_xpf

# Secrets are never copied into the history; last_login changes at every login.
ACCOUNT_EXCLUDED_FIELDS = ["password", "last_login"]


class AccountHistory(HistoricalRecords):
    """Django's history records, without a row for a save that touches only excluded
    fields (a login saves last_login alone)."""

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


def register_account_history() -> None:
    register(
        User,
        app="dsi_finance",
        records_class=AccountHistory,
        m2m_fields=[User.groups.field],
        excluded_fields=ACCOUNT_EXCLUDED_FIELDS,
    )


# ---------------------------------------------------------------------------
# A document's history for its detail page (templates/partials/document_history.html)

# Integer francs kept in BigIntegerFields under these names (besides amount*):
# shown as `1 234 567 F CFP` in the history.
MONEY_FIELD_NAMES = frozenset({"liquidated", "released", "invoiced", "unit_price"})


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str  # the field's verbose name, translated
    old: str
    new: str


@dataclass(frozen=True)
class DocumentChange:
    """One history record: who did what, when (`when` is aware; shown d/m/Y H:i)."""

    when: datetime
    who: str
    kind: str  # "created", "changed" or "deleted"
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""

    @property
    def what(self) -> str:
        if self.kind == "created":
            return pgettext("document history", "Created")
        if self.kind == "deleted":
            return pgettext("document history", "Deleted")
        return ", ".join(change.label for change in self.fields)

    @property
    def when_display(self) -> str:
        return date_format(localtime(self.when), "d/m/Y H:i")


def _is_money(field) -> bool:
    return isinstance(field, BigIntegerField) and (
        field.name.startswith("amount") or field.name in MONEY_FIELD_NAMES
    )


def _person(user) -> str:
    if user is None:
        return pgettext("document history", "system")
    return user.get_full_name() or user.get_username()


def _text(field, value, related: dict) -> str:
    """A field's value as a person reads it."""
    if value is None or value == "":
        return "—"
    if field.is_relation:
        target = related.get(field.related_model, {}).get(value)
        if target is None:
            return f"#{value}"
        if field.related_model is get_user_model():
            return _person(target)
        return str(target)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if _is_money(field):
        return format_xpf(value)
    if isinstance(value, datetime):
        return date_format(localtime(value), "d/m/Y H:i")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return number_format(Decimal(format(value.normalize(), "f")))
    return " / ".join(line.strip() for line in str(value).splitlines() if line.strip())


def document_changes(instance) -> list[DocumentChange]:
    """The simple-history records of `instance`, newest first, each with who, when and
    what changed (field label, old -> new, as shown on screens) and the record's reason.

    One query for the records (with their users), then one per model that a changed
    foreign key points to; consecutive records are compared with `diff_against`.
    """
    records = list(instance.history.all().select_related("history_user"))
    if not records:
        return []
    opts = records[0].instance_type._meta
    m2m = [field.name for field in getattr(records[0], "_history_m2m_fields", [])]
    order = {field.name: index for index, field in enumerate(opts.concrete_fields)}

    deltas = {}
    wanted: dict = defaultdict(set)  # related model -> pks to show
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        if previous is None or record.history_type in ("+", "-"):
            continue
        delta = record.diff_against(previous, excluded_fields=m2m)
        changes = sorted(delta.changes, key=lambda change: order.get(change.field, len(order)))
        deltas[record.pk] = changes
        for change in changes:
            field = opts.get_field(change.field)
            if field.is_relation:
                wanted[field.related_model].update(
                    value for value in (change.old, change.new) if value is not None
                )
    related = {model: model._default_manager.in_bulk(pks) for model, pks in wanted.items()}

    items = []
    for record in records:
        reason = record.history_change_reason or ""
        if record.history_type == "+":
            kind, fields = "created", ()
        elif record.history_type == "-":
            kind, fields = "deleted", ()
        else:
            kind = "changed"
            fields = tuple(
                FieldChange(
                    name=change.field,
                    label=capfirst(str(field.verbose_name)),
                    old=_text(field, change.old, related),
                    new=_text(field, change.new, related),
                )
                for change in deltas.get(record.pk, ())
                for field in (opts.get_field(change.field),)
            )
            if not fields and not reason:
                continue  # saved without a visible change
        items.append(
            DocumentChange(
                when=record.history_date,
                who=_person(record.history_user),
                kind=kind,
                fields=fields,
                reason=reason,
            )
        )
    return items

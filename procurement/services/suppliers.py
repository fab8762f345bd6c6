"""Suppliers: created, updated, deactivated and reactivated by the buyers (manage_supplier).

A supplier is never deleted: deactivating it keeps its documents and its history,
and only stops it being chosen for new requests, commitments and invoices (those
services check `supplier.is_active`; screens offer `selectors.suppliers.active_suppliers()`).

What is checked, each refusal in French naming the field:
- the name is required;
- the RIDET (New Caledonia's company number: 7 digits for the company, the RID,
  then 3 for the establishment, the ET) is stored as `1234567.001`. Accepted as typed:
  `1234567.001`, `1234567001`, `1 234 567.001`, `1234567-001`, `1234567/001`, and an
  establishment of one or two digits after a separator is zero-padded (`1234567.1` is
  `1234567.001`). Seven digits alone are refused: the establishment is part of the
  number and is never guessed. It is unique: the message names the supplier that has it;
- payment terms are whole days from 0 to 365;
- the e-mail, if any, is a valid address;
- the bank account, if any, is a French/New Caledonian RIB (bank 5 digits, branch 5
  digits, account 11 letters or digits, key 2 digits: 23 characters, the key checked
  modulo 97) or an IBAN (checked modulo 97). It is stored without spaces, upper case.
An update checks only the fields whose value changes: what is stored is not judged again.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from dsi_finance.roles import require_capability

from ..models import Supplier
from .common import (
    ProcurementError,
)

__all__ = [
    "EDITABLE_FIELDS",
    "normalize_bank_account",
    "normalize_ridet",
    "supplier_create",
    "supplier_deactivate",
    "supplier_reactivate",
    "supplier_update",
]

EDITABLE_FIELDS = (
    "name",
    "ridet",
    "address",
    "contact_name",
    "email",
    "phone",
    "payment_terms_days",
    "bank_name",
    "bank_account",
)
MAX_PAYMENT_TERMS = 365
ADDRESS_MAX_LENGTH = 1000

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_RIDET = re.compile(r"^(?P<rid>\d{7})(?:(?P<et>\d{3})|[./-](?P<short>\d{1,3}))$")
_PHONE = re.compile(r"^\+?[\d ().-]{4,40}$")
_RIB = re.compile(r"^(?P<bank>\d{5})(?P<branch>\d{5})(?P<account>[0-9A-Z]{11})(?P<key>\d{2})$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[0-9A-Z]{11,30}$")
# The RIB's letters stand for digits (norme AFNOR): A and J are 1, B, K and S are 2…
_RIB_LETTERS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789")


def _invalid(field: str, message: str, code: str) -> ProcurementError:
    """A refusal attached to a form field (the API joins the messages)."""
    return ProcurementError({field: [ValidationError(message, code=code)]}, code=code)


# ---------------------------------------------------------------------------
# Normalisation and checks


def normalize_ridet(value) -> str:
    """`1 234 567.1` -> `1234567.001`; a French ProcurementError if it is no RIDET."""
    text = _SPACES.sub("", value) if isinstance(value, str) else ""
    if not text:
        raise _invalid("ridet", _("The RIDET is required."), "ridet")
    match = _RIDET.match(text)
    if match is None and re.fullmatch(r"\d{7}", text):
        raise _invalid(
            "ridet",
            _("The RIDET %(value)s lacks its establishment: add its 3 digits, e.g. %(value)s.001.")
            % {"value": text},
            "ridet",
        )
    if match is None:
        raise _invalid(
            "ridet",
            _(
                "The RIDET %(value)s is not valid: 7 digits for the company then 3 for "
                "the establishment, e.g. 1234567.001."
            )
            % {"value": text[:30]},
            "ridet",
        )
    rid = match["rid"]
    establishment = match["et"] or match["short"].zfill(3)
    if rid == "0000000":
        raise _invalid(
            "ridet",
            _("The RIDET %(value)s is not valid: the company number cannot be zero.")
            % {"value": text[:30]},
            "ridet",
        )
    return f"{rid}.{establishment}"


def _mod97(text: str) -> int:
    return int(text) % 97


def normalize_bank_account(value) -> str:
    """A RIB or an IBAN without spaces, upper case, its key checked; "" stays ""."""
    text = _SPACES.sub("", value or "").replace("-", "").upper()
    if not text:
        return ""
    if text[:2].isalpha():
        if not _IBAN.match(text) or len(text) > 34:
            raise _invalid(
                "bank_account",
                _(
                    "The IBAN %(value)s is not valid: two letters for the country, two "
                    "check digits, then 11 to 30 letters or digits."
                )
                % {"value": text[:40]},
                "bank_account",
            )
        rearranged = text[4:] + text[:4]
        digits = "".join(str(int(char, 36)) for char in rearranged)
        if _mod97(digits) != 1:
            raise _invalid(
                "bank_account",
                _("The IBAN %(value)s is not valid: its check digits do not match.")
                % {"value": text},
                "bank_account",
            )
        return text
    match = _RIB.match(text)
    if match is None:
        raise _invalid(
            "bank_account",
            _(
                "The bank account %(value)s is neither a RIB (bank 5 digits, branch 5 digits, "
                "account 11 characters, key 2 digits) nor an IBAN."
            )
            % {"value": text[:40]},
            "bank_account",
        )
    number = match["bank"] + match["branch"] + match["account"].translate(_RIB_LETTERS)
    if _mod97(number + match["key"]) != 0:
        expected = 97 - _mod97(number + "00")
        raise _invalid(
            "bank_account",
            _("The RIB key %(key)s is wrong for this account (the key should be %(expected)s).")
            % {"key": match["key"], "expected": f"{expected:02d}"},
            "bank_account",
        )
    return text


def _text(field: str, value, *, label: str, max_length: int) -> str:
    """Stripped text; `label` is the field's name as the form shows it (no article, so
    that the French needs no agreement)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(field, _("%(label)s: text expected.") % {"label": label}, "text")
    text = value.strip()
    if len(text) > max_length:
        raise _invalid(
            field,
            _("%(label)s: %(max)s characters at most (%(length)s typed).")
            % {"label": label, "max": max_length, "length": len(text)},
            "too_long",
        )
    return text


def _name(value) -> str:
    text = _text("name", value, label=_("Name"), max_length=200)
    if not text:
        raise _invalid("name", _("The name is required."), "required")
    return text


def _payment_terms(value) -> int:
    message = _("The payment terms are a whole number of days from 0 to %(max)s.") % {
        "max": MAX_PAYMENT_TERMS
    }
    if isinstance(value, bool):
        raise _invalid("payment_terms_days", message, "payment_terms")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_PAYMENT_TERMS:
        raise _invalid("payment_terms_days", message, "payment_terms")
    return value


def _email(value) -> str:
    text = _text("email", value, label=_("E-mail"), max_length=254)
    if text:
        try:
            validate_email(text)
        except ValidationError:
            raise _invalid(
                "email",
                _("The e-mail address %(value)s is not valid.") % {"value": text[:60]},
                "email",
            ) from None
    return text


def _phone(value) -> str:
    text = _text("phone", value, label=_("Phone"), max_length=40)
    if text and not _PHONE.match(text):
        raise _invalid(
            "phone",
            _("The phone number %(value)s is not valid: digits, spaces and a leading +.")
            % {"value": text},
            "phone",
        )
    return text


def _clean(field: str, value) -> Any:
    """The value of one editable field, checked and normalised."""
    if field == "name":
        return _name(value)
    if field == "ridet":
        return normalize_ridet(value)
    if field == "address":
        return _text("address", value, label=_("Address"), max_length=ADDRESS_MAX_LENGTH)
    if field == "contact_name":
        return _text("contact_name", value, label=_("Contact"), max_length=120)
    if field == "email":
        return _email(value)
    if field == "phone":
        return _phone(value)
    if field == "payment_terms_days":
        return _payment_terms(value)
    if field == "bank_name":
        return _text("bank_name", value, label=_("Bank"), max_length=120)
    if field == "bank_account":
        return normalize_bank_account(value)
    raise TypeError(f"Not an editable field of a supplier: {field}")


def _ridet_taken(ridet: str, *, exclude: int | None = None) -> ProcurementError | None:
    holder = Supplier.objects.filter(ridet=ridet).exclude(pk=exclude).first()
    if holder is None:
        return None
    if holder.is_active:
        message = _("The RIDET %(ridet)s already belongs to the supplier “%(name)s”.")
    else:
        message = _(
            "The RIDET %(ridet)s already belongs to the supplier “%(name)s”, which is "
            "deactivated: reactivate it rather than create it again."
        )
    return _invalid("ridet", message % {"ridet": ridet, "name": holder.name}, "ridet_taken")


def _save(supplier: Supplier, *, user) -> None:
    """Save, turning the unique index's refusal (two entries of one RIDET at the same
    moment) into the French message."""
    supplier._history_user = user
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError:
        error = _ridet_taken(supplier.ridet, exclude=supplier.pk)
        if error is None:
            raise
        raise error from None


# ---------------------------------------------------------------------------
# Services


@transaction.atomic
def supplier_create(
    *,
    user,
    name: str,
    ridet: str,
    address: str = "",
    contact_name: str = "",
    email: str = "",
    phone: str = "",
    payment_terms_days: int = 30,
    bank_name: str = "",
    bank_account: str = "",
) -> Supplier:
    """A new, active supplier (manage_supplier)."""
    require_capability(user, "manage_supplier")
    given = {
        "name": name,
        "ridet": ridet,
        "address": address,
        "contact_name": contact_name,
        "email": email,
        "phone": phone,
        "payment_terms_days": payment_terms_days,
        "bank_name": bank_name,
        "bank_account": bank_account,
    }
    values = {field: _clean(field, value) for field, value in given.items()}
    taken = _ridet_taken(values["ridet"])
    if taken is not None:
        raise taken
    supplier = Supplier(**values, is_active=True)
    _save(supplier, user=user)
    return supplier


@transaction.atomic
def supplier_update(*, user, supplier: Supplier, **fields) -> Supplier:
    """Change the given fields (any of EDITABLE_FIELDS; the others stay). The row is
    locked so that two edits of one supplier queue up instead of one losing the other's
    fields; a field whose value does not change is not checked again."""
    require_capability(user, "manage_supplier")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable fields of a supplier: {', '.join(sorted(unknown))}")
    given = supplier
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    changed = []
    for field, value in fields.items():
        if value == getattr(supplier, field):
            continue
        cleaned = _clean(field, value)
        if cleaned != getattr(supplier, field):
            setattr(supplier, field, cleaned)
            changed.append(field)
    if "ridet" in changed:
        taken = _ridet_taken(supplier.ridet, exclude=supplier.pk)
        if taken is not None:
            raise taken
    if changed:
        _save(supplier, user=user)
        for field in changed:  # the caller's copy says the same
            setattr(given, field, getattr(supplier, field))
    return supplier


def _set_active(*, user, supplier: Supplier, active: bool) -> Supplier:
    require_capability(user, "manage_supplier")
    given = supplier
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    if supplier.is_active == active:
        message = (
            _("The supplier %(name)s is already active.")
            if active
            else _("The supplier %(name)s is already deactivated.")
        )
        raise ProcurementError(message % {"name": supplier.name}, code="supplier_state")
    supplier.is_active = active
    supplier._history_user = user
    supplier.save(update_fields=["is_active"])
    given.is_active = active  # the caller's copy says the same
    return supplier


@transaction.atomic
def supplier_deactivate(*, user, supplier: Supplier) -> Supplier:
    """No longer offered for new requests, commitments and invoices; everything is kept."""
    return _set_active(user=user, supplier=supplier, active=False)


@transaction.atomic
def supplier_reactivate(*, user, supplier: Supplier) -> Supplier:
    """Offered again for new documents."""
    return _set_active(user=user, supplier=supplier, active=True)

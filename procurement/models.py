"""Procurement: suppliers, purchase requests, commitments, orders, receipts and invoices.

The chain (DESIGN.md): a purchase request (DA) consumes nothing until it is
approved; approving it opens a commitment (engagement), which takes credits
through `budgets.services.credits_commit`; an order (bon de commande) is sent
for the commitment; receipts (service fait) record what arrived; invoices are
matched to the commitment's lines and liquidated through
`budgets.services.credits_liquidate`. Procurement never writes a ledger row.

Amounts are integer XPF francs before tax (HT) unless named otherwise; the TGC
is computed per rate from reference data (`TaxRate`), never from constants.
Documents are cancelled with a reason, never deleted (PROTECT everywhere), and
keep their history (simple-history).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from budgets.models import BudgetLine, FiscalYear

USER = settings.AUTH_USER_MODEL
QUANTITY = {"max_digits": 14, "decimal_places": 3}
CURRENCY_AMOUNT = {"max_digits": 18, "decimal_places": 2}


class DocumentSequence(models.Model):
    """The last number given to a kind of document in a year.

    Numbers are taken with the row locked, inside the transaction that creates
    the document: two concurrent creations queue up (no duplicate), and a
    rolled-back creation gives its number back (no gap).
    """

    kind = models.CharField(_("kind"), max_length=4)  # DA, EJ, BC, FA, SF
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document sequence")
        verbose_name_plural = _("document sequences")
        constraints = [
            models.UniqueConstraint(fields=("kind", "year"), name="document_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}-{self.year}: {self.last}"


class TaxRate(models.Model):
    """A TGC rate (taxe générale sur la consommation) and the dates it applies."""

    rate = models.DecimalField(
        _("rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    label = models.CharField(_("label"), max_length=80)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-rate", "-valid_from")
        verbose_name = _("TGC rate")
        verbose_name_plural = _("TGC rates")
        constraints = [
            models.UniqueConstraint(fields=("rate", "valid_from"), name="tax_rate_unique_start"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="tax_rate_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate.normalize():f} %"


class Supplier(models.Model):
    """A supplier; deactivated when no longer used, never deleted."""

    name = models.CharField(_("name"), max_length=200)
    # RIDET: the company number of New Caledonia (7 digits, then the establishment: 1234567.001).
    ridet = models.CharField(_("RIDET"), max_length=11, unique=True)
    address = models.TextField(_("address"), blank=True)
    contact_name = models.CharField(_("contact"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    bank_name = models.CharField(_("bank"), max_length=120, blank=True)
    bank_account = models.CharField(_("bank account (RIB or IBAN)"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("name", "pk")
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        indexes = [models.Index(fields=("is_active", "name"))]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("procurement:supplier-detail", args=[self.pk])


class PurchaseRequest(models.Model):
    """A demande d'achat (DA), entered by the buyer."""

    class State(models.TextChoices):
        # A context per document: French agrees the state with the document's gender.
        DRAFT = "draft", pgettext_lazy("purchase request", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("purchase request", "Submitted")
        APPROVED = "approved", pgettext_lazy("purchase request", "Approved")
        REJECTED = "rejected", pgettext_lazy("purchase request", "Rejected")
        ORDERED = "ordered", pgettext_lazy("purchase request", "Ordered")
        PARTLY_RECEIVED = "partly_received", pgettext_lazy("purchase request", "Partly received")
        RECEIVED = "received", pgettext_lazy("purchase request", "Received")
        INVOICED = "invoiced", pgettext_lazy("purchase request", "Invoiced")
        CLOSED = "closed", pgettext_lazy("purchase request", "Closed")
        CANCELLED = "cancelled", pgettext_lazy("purchase request", "Cancelled")

    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("fiscal year")
    )
    number = models.CharField(_("number"), max_length=20, unique=True)  # DA-2026-00001
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="requests", verbose_name=_("supplier")
    )
    subject = models.CharField(_("subject"), max_length=200)
    justification = models.TextField(_("justification"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    # Cached sums of the lines, written by the services with the lines.
    amount_ht = models.BigIntegerField(_("amount before tax"), default=0)
    amount_tax = models.BigIntegerField(_("TGC"), default=0)
    amount_ttc = models.BigIntegerField(_("amount with tax"), default=0)
    requested_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The rejection reason, or the written reason of an approval over a short available amount.
    decision_reason = models.TextField(_("decision reason"), blank=True)
    # Transmitted by the section head to the IT director when the credits are short:
    # the request waits on the director's home page (services.purchase_request_transmit).
    transmitted_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("transmitted by"),
    )
    transmitted_at = models.DateTimeField(
        _("transmitted to the IT director at"), null=True, blank=True
    )
    transmit_note = models.TextField(_("note to the IT director"), blank=True)
    cancelled_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("purchase request")
        verbose_name_plural = _("purchase requests")
        indexes = [
            models.Index(fields=("state", "-created_at")),
            models.Index(fields=("requested_by", "-created_at")),
            models.Index(fields=("fiscal_year", "-created_at")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_ht__gte=0) & Q(amount_tax__gte=0),
                name="purchase_request_amounts_positive",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("procurement:request-detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT


class PurchaseRequestLine(models.Model):
    request = models.ForeignKey(
        PurchaseRequest, on_delete=models.PROTECT, related_name="lines", verbose_name=_("request")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.BigIntegerField(_("unit price before tax"))
    tax_rate = models.ForeignKey(
        TaxRate, on_delete=models.PROTECT, related_name="+", verbose_name=_("TGC rate")
    )
    # Optional while drafting; a request cannot be submitted with a line lacking it.
    budget_line = models.ForeignKey(
        BudgetLine,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("budget line"),
    )
    amount_ht = models.BigIntegerField(_("amount before tax"))  # quantity × unit price, rounded

    class Meta:
        ordering = ("request", "position")
        verbose_name = _("request line")
        verbose_name_plural = _("request lines")
        constraints = [
            models.UniqueConstraint(fields=("request", "position"), name="request_line_position"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(unit_price__gte=0) & Q(amount_ht__gte=0),
                name="request_line_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.position} {self.description}"


class Attachment(models.Model):
    """A file joined to a purchase request (quote, specification…); kept, never deleted."""

    request = models.ForeignKey(
        PurchaseRequest,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("request"),
    )
    file = models.FileField(_("file"), upload_to="procurement/attachments/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ("request", "uploaded_at", "pk")
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class Commitment(models.Model):
    """An engagement: credits taken on budget lines for a supplier.

    Opened by an approved purchase request, directly for a recurring contract,
    or by a direct invoice (committed and liquidated at once). The sums below
    are caches of the lines', written by the services under a lock of the
    commitment row.
    """

    class Kind(models.TextChoices):
        REQUEST = "request", _("Purchase request")
        RECURRING = "recurring", _("Recurring contract")
        DIRECT = "direct", _("Direct invoice")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("commitment", "Open")
        CLOSED = "closed", pgettext_lazy("commitment", "Closed")
        CANCELLED = "cancelled", pgettext_lazy("commitment", "Cancelled")

    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("fiscal year")
    )
    number = models.CharField(_("number"), max_length=20, unique=True)  # EJ-2026-00001
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="commitments", verbose_name=_("supplier")
    )
    subject = models.CharField(_("subject"), max_length=200)
    purchase_request = models.OneToOneField(
        PurchaseRequest,
        on_delete=models.PROTECT,
        related_name="commitment",
        null=True,
        blank=True,
        verbose_name=_("purchase request"),
    )
    # A recurring contract's period (yearly maintenance, telecom links, subscriptions).
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    amount = models.BigIntegerField(_("committed"), default=0)
    liquidated = models.BigIntegerField(_("liquidated"), default=0)
    released = models.BigIntegerField(_("released"), default=0)
    created_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        indexes = [
            models.Index(fields=("fiscal_year", "state", "-created_at")),
            models.Index(fields=("supplier", "state")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(liquidated__gte=0)
                & Q(released__gte=0)
                & Q(amount__gte=F("liquidated") + F("released")),
                name="commitment_consumed_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("procurement:commitment-detail", args=[self.pk])

    @property
    def remainder(self) -> int:
        """Committed and neither liquidated nor released."""
        return self.amount - self.liquidated - self.released


class CommitmentLine(models.Model):
    commitment = models.ForeignKey(
        Commitment, on_delete=models.PROTECT, related_name="lines", verbose_name=_("commitment")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("budget line")
    )
    description = models.CharField(_("description"), max_length=300)
    request_line = models.OneToOneField(
        PurchaseRequestLine,
        on_delete=models.PROTECT,
        related_name="commitment_line",
        null=True,
        blank=True,
    )
    # Ordered goods carry a quantity (receipts and invoices are checked against it);
    # a recurring contract's line is an amount only.
    quantity = models.DecimalField(_("quantity"), null=True, blank=True, **QUANTITY)
    unit_price = models.BigIntegerField(_("unit price before tax"), null=True, blank=True)
    tax_rate = models.ForeignKey(
        TaxRate, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    amount = models.BigIntegerField(_("committed"))  # grows when an invoice above it is covered
    liquidated = models.BigIntegerField(_("liquidated"), default=0)
    released = models.BigIntegerField(_("released"), default=0)
    received_quantity = models.DecimalField(_("received"), default=0, **QUANTITY)
    invoiced_quantity = models.DecimalField(_("invoiced quantity"), default=0, **QUANTITY)
    invoiced = models.BigIntegerField(_("invoiced"), default=0)  # HT of its live invoice lines

    class Meta:
        ordering = ("commitment", "position")
        verbose_name = _("commitment line")
        verbose_name_plural = _("commitment lines")
        constraints = [
            models.UniqueConstraint(
                fields=("commitment", "position"), name="commitment_line_position"
            ),
            models.CheckConstraint(
                condition=Q(liquidated__gte=0)
                & Q(released__gte=0)
                & Q(amount__gte=F("liquidated") + F("released")),
                name="commitment_line_consumed_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commitment_id}/{self.position} {self.description}"

    @property
    def remainder(self) -> int:
        return self.amount - self.liquidated - self.released


class PurchaseOrder(models.Model):
    """A bon de commande, numbered without gap per year (BC-2026-00042)."""

    class State(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("purchase order", "Issued")
        SENT = "sent", pgettext_lazy("purchase order", "Sent")
        CANCELLED = "cancelled", pgettext_lazy("purchase order", "Cancelled")

    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("fiscal year")
    )
    number = models.CharField(_("number"), max_length=20, unique=True)
    commitment = models.OneToOneField(
        Commitment, on_delete=models.PROTECT, related_name="order", verbose_name=_("commitment")
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="orders", verbose_name=_("supplier")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ISSUED)
    delivery_address = models.TextField(_("delivery address"), blank=True)
    delivery_date = models.DateField(_("expected delivery"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    amount_ht = models.BigIntegerField(_("amount before tax"), default=0)
    amount_tax = models.BigIntegerField(_("TGC"), default=0)
    amount_ttc = models.BigIntegerField(_("amount with tax"), default=0)
    issued_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    sent_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # A cancelled order keeps its number (the supplier may hold it); it ends the
    # ordering of its commitment (one order per commitment).
    cancelled_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-issued_at", "-pk")
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        indexes = [models.Index(fields=("fiscal_year", "-issued_at"))]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("procurement:order-detail", args=[self.pk])


class Receipt(models.Model):
    """A service fait: what arrived, line by line, on a date. Cancelled, never deleted."""

    commitment = models.ForeignKey(
        Commitment, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("commitment")
    )
    number = models.CharField(_("number"), max_length=20, unique=True)  # SF-2026-00001
    received_on = models.DateField(_("received on"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    cancelled_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-received_on", "-pk")
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("procurement:receipt-detail", args=[self.pk])

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, related_name="lines", verbose_name=_("receipt")
    )
    commitment_line = models.ForeignKey(
        CommitmentLine, on_delete=models.PROTECT, related_name="receipt_lines"
    )
    quantity = models.DecimalField(_("quantity received"), **QUANTITY)

    class Meta:
        ordering = ("receipt", "commitment_line__position")
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="receipt_line_positive"),
            models.UniqueConstraint(
                fields=("receipt", "commitment_line"), name="receipt_line_once_per_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id}: {self.quantity}"


class Invoice(models.Model):
    """A supplier invoice, entered by the accounting assistant.

    XPF amounts (`amount_*`) are what the budget sees; an invoice in another
    currency also keeps its original amounts (`*_currency`) and the rate used
    (XPF for one unit; EUR at the fixed parity).
    """

    class State(models.TextChoices):
        ENTERED = "entered", pgettext_lazy("invoice", "Entered")
        TO_VALIDATE = "to_validate", pgettext_lazy("invoice", "Liquidation to validate")
        LIQUIDATED = "liquidated", pgettext_lazy("invoice", "Liquidated")
        CANCELLED = "cancelled", pgettext_lazy("invoice", "Cancelled")

    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("fiscal year")
    )
    number = models.CharField(_("number"), max_length=20, unique=True)  # FA-2026-00001
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("supplier")
    )
    supplier_number = models.CharField(_("supplier's invoice number"), max_length=60)
    # The number in a comparable form ("F2026-01187" and "f 2026/1187" -> "f20261187",
    # procurement.supplier_numbers), set by the service that enters the invoice: what
    # the duplicate check and the unique constraint below compare.
    supplier_number_key = models.CharField(
        _("supplier's invoice number (compared)"), max_length=120, db_index=True, editable=False
    )
    # None for a direct invoice (no prior commitment: committed and liquidated at once).
    commitment = models.ForeignKey(
        Commitment,
        on_delete=models.PROTECT,
        related_name="invoices",
        null=True,
        blank=True,
        verbose_name=_("commitment"),
    )
    invoice_date = models.DateField(_("invoice date"))
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))  # received + the supplier's payment terms
    currency = models.CharField(_("currency"), max_length=3, default="XPF")
    exchange_rate = models.DecimalField(
        _("exchange rate (XPF)"), max_digits=14, decimal_places=6, default=Decimal(1)
    )
    amount_ht = models.BigIntegerField(_("amount before tax"), default=0)
    amount_tax = models.BigIntegerField(_("TGC"), default=0)
    amount_ttc = models.BigIntegerField(_("amount with tax"), default=0)
    amount_ht_currency = models.DecimalField(_("amount before tax (currency)"), **CURRENCY_AMOUNT)
    amount_tax_currency = models.DecimalField(_("TGC (currency)"), **CURRENCY_AMOUNT)
    amount_ttc_currency = models.DecimalField(_("amount with tax (currency)"), **CURRENCY_AMOUNT)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.ENTERED
    )
    payment_date = models.DateField(_("paid on"), null=True, blank=True)
    entered_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    liquidated_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("liquidated by"),
    )
    liquidated_at = models.DateTimeField(_("liquidated at"), null=True, blank=True)
    validated_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("validated by"),
    )
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-received_on", "-pk")
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=("fiscal_year", "-received_on", "-id")),
            models.Index(fields=("state", "due_on")),
            models.Index(fields=("supplier", "-received_on")),
            models.Index(fields=("commitment", "state")),
            # The invoice list's other orders, each read from an index (no sort of a
            # million rows per page): every year, newest received first; the "to
            # liquidate" and "late for payment" tabs, oldest due first. The partial
            # indexes hold only the invoices of their tab.
            models.Index(fields=("-received_on", "-id"), name="invoice_received_desc"),
            models.Index(
                fields=("due_on", "id"),
                name="invoice_to_liquidate_due",
                condition=Q(state__in=("entered", "to_validate")),
            ),
            models.Index(
                fields=("due_on", "id"),
                name="invoice_unpaid_due",
                condition=~Q(state="cancelled") & Q(payment_date__isnull=True),
            ),
            # The dashboard's two sums over a year's invoices, read from the index alone
            # on PostgreSQL (INCLUDE is ignored elsewhere): the unpaid ones late for
            # payment, and the paid ones' delays.
            models.Index(
                fields=("fiscal_year", "due_on"),
                include=("amount_ttc",),
                name="invoice_year_unpaid",
                condition=~Q(state="cancelled") & Q(payment_date__isnull=True),
            ),
            models.Index(
                fields=("fiscal_year",),
                include=("payment_date", "received_on", "due_on", "amount_ttc"),
                name="invoice_year_paid",
                condition=Q(state="liquidated") & Q(payment_date__isnull=False),
            ),
        ]
        constraints = [
            # A supplier's invoice number is entered once, whatever its format (the key
            # folds case, separators and leading zeros); a cancelled entry frees it.
            models.UniqueConstraint(
                fields=("supplier", "supplier_number_key"),
                condition=~Q(state="cancelled"),
                name="invoice_supplier_number_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("received_on")), name="invoice_due_after_receipt"
            ),
            models.CheckConstraint(condition=Q(exchange_rate__gt=0), name="invoice_rate_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("procurement:invoice-detail", args=[self.pk])

    @property
    def is_paid(self) -> bool:
        return self.payment_date is not None


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name=_("invoice")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=300)
    # Matched to a commitment line, whose budget line it takes; a direct invoice's
    # lines name their budget line.
    commitment_line = models.ForeignKey(
        CommitmentLine,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
        null=True,
        blank=True,
        verbose_name=_("commitment line"),
    )
    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("budget line")
    )
    quantity = models.DecimalField(_("quantity"), null=True, blank=True, **QUANTITY)
    tax_rate = models.ForeignKey(
        TaxRate, on_delete=models.PROTECT, related_name="+", verbose_name=_("TGC rate")
    )
    amount_ht_currency = models.DecimalField(_("amount before tax (currency)"), **CURRENCY_AMOUNT)
    amount_ht = models.BigIntegerField(_("amount before tax"))

    class Meta:
        ordering = ("invoice", "position")
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        indexes = [models.Index(fields=("budget_line", "invoice"))]
        constraints = [
            models.UniqueConstraint(fields=("invoice", "position"), name="invoice_line_position"),
            models.CheckConstraint(condition=Q(amount_ht__gt=0), name="invoice_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position} {self.description}"

"""The budget work each role finds on its home page (dsi_finance.home).

Registered from BudgetsConfig.ready(); each queue's selector is the one its list
uses when opened with `?queue=<code>`.
"""

from django.utils.translation import gettext_lazy as _

from dsi_finance.home import HomeQueue, register_queues
from dsi_finance.roles import Role

from . import selectors


def _queues() -> list[HomeQueue]:
    return [
        HomeQueue(
            code="transfers-requested",
            label=_("Transfers waiting for approval"),
            role=Role.PILOTAGE,
            capability="request_transfer",
            selector=lambda user: selectors.transfers_waiting(actor=user),
            url_name="budgets:transfer-list",
            age_field="requested_at",
            query={"year": ""},
            order=32,
        ),
        HomeQueue(
            code="transfers-to-approve",
            label=_("Transfers to approve"),
            role=Role.DIRECTION,
            capability="approve_transfer",
            selector=lambda user: selectors.transfers_waiting(actor=user),
            url_name="budgets:transfer-list",
            age_field="requested_at",
            query={"year": ""},
            order=42,
        ),
        HomeQueue(
            code="revisions-to-submit",
            label=_("Budget revisions to submit"),
            role=Role.DIRECTION,
            capability="submit_budget",
            selector=lambda user: selectors.revisions_to_submit(actor=user),
            url_name="budgets:revision-list",
            age_field="created_at",
            order=43,
        ),
        HomeQueue(
            code="revisions-to-vote",
            label=_("Votes to record"),
            role=Role.DIRECTION,
            capability="submit_budget",
            selector=lambda user: selectors.revisions_to_vote(actor=user),
            url_name="budgets:revision-list",
            age_field="submitted_at",
            order=44,
        ),
    ]


def register() -> None:
    register_queues(*_queues())

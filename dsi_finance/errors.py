"""The base error of every app's services.

A service refuses an operation by raising a ServiceError (or an app's subclass:
budgets.services.BudgetError, procurement.services.common.ProcurementError) whose
message is for the user, in French, with a `code` the API returns. Views show it
as a message or a form error; the API (dsi_finance.api.ServiceErrorsMixin) answers
400 {"detail": "<message>"}. Catch ServiceError to catch any app's refusal.
"""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A business rule refused the operation; the message is for the user, in French."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code, params)
        if code is not None and not hasattr(self, "code"):
            # ValidationError drops the code of a list of messages; callers (the API)
            # read it, so keep it.
            self.code = code

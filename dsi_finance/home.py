"""What the home page shows: each role's work queues, and the panels apps add below them.

The kernel imports no app: each app registers its queues (and panels) from its
AppConfig.ready(). A queue is a selector and the list that holds its rows: the
home counts `selector(user)`, and the list page, opened with `?queue=<code>`,
lists the very same `selector(user)` (HomeQueueListMixin, or `active_queue()`
for a page that is not a django-filter list). One query per queue, written once.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .roles import Role, holds

QUEUE_PARAM = "queue"


@dataclass(frozen=True)
class HomeQueue:
    """A kind of work waiting for a role.

    code: unique, in the query string (`?queue=<code>`); role: the heading it shows
    under (a Role value); capability: who sees it (a codename, or a tuple of which
    one is enough); selector: user -> queryset of the waiting rows; url_name: the
    list that holds them; query: what else that list needs in its query string to
    hold exactly those rows (e.g. `year=""` where the list starts on the current
    year); age_field: the date or datetime whose oldest value gives the age of the
    oldest row (None: no age).
    """

    code: str
    label: str
    role: str
    capability: str | tuple[str, ...]
    selector: Callable[..., QuerySet]
    url_name: str
    age_field: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    order: int = 100
    hint: str = ""  # what exactly the queue holds, when its label cannot say it all

    def url(self) -> str:
        return f"{reverse(self.url_name)}?{urlencode({QUEUE_PARAM: self.code, **self.query})}"

    def allows(self, user) -> bool:
        return holds(user, self.capability)


@dataclass(frozen=True)
class HomePanel:
    """A page that an app offers as the home page of the users holding `capability`
    (the dashboard): its template extends the home's layout and includes the queues
    (`dsi_finance/partials/home_queues.html`); `context(request)` gives what it needs."""

    code: str
    capability: str | tuple[str, ...]
    template_name: str
    context: Callable[..., dict]
    order: int = 100


_QUEUES: dict[str, HomeQueue] = {}
_PANELS: dict[str, HomePanel] = {}


def register_queues(*queues: HomeQueue) -> None:
    """Add queues to the home page (called from an app's ready(); idempotent)."""
    for queue in queues:
        _QUEUES[queue.code] = queue


def register_panel(panel: HomePanel) -> None:
    _PANELS[panel.code] = panel


def registered_queues() -> list[HomeQueue]:
    return sorted(_QUEUES.values(), key=lambda queue: (queue.order, queue.code))


def get_queue(code: str) -> HomeQueue | None:
    return _QUEUES.get(code)


def panel_for(user) -> HomePanel | None:
    """The first panel (by order) this user may see, or None: the plain home page."""
    for panel in sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.code)):
        if holds(user, panel.capability):
            return panel
    return None


@dataclass
class QueueState:
    queue: HomeQueue
    count: int
    oldest: date | None

    @property
    def label(self) -> str:
        return str(self.queue.label)

    @property
    def url(self) -> str:
        return self.queue.url()

    @property
    def code(self) -> str:
        return self.queue.code

    @property
    def hint(self) -> str:
        return str(self.queue.hint)

    @property
    def age_days(self) -> int | None:
        """Days since the oldest row (0 today), or None without rows or age."""
        if self.oldest is None:
            return None
        return max(0, (timezone.localdate() - self.oldest).days)


@dataclass
class RoleQueues:
    role: Role
    queues: list[QueueState]

    @property
    def waiting(self) -> list[QueueState]:
        return [state for state in self.queues if state.count]

    @property
    def is_empty(self) -> bool:
        return not self.waiting


def queue_state(queue: HomeQueue, user) -> QueueState:
    """The queue's count and its oldest row's date, in one query of its selector."""
    aggregates = {"count": Count("pk")}
    if queue.age_field:
        aggregates["oldest"] = Min(queue.age_field)
    figures = queue.selector(user).order_by().aggregate(**aggregates)
    oldest = figures.get("oldest")
    if isinstance(oldest, datetime):
        oldest = timezone.localtime(oldest).date() if timezone.is_aware(oldest) else oldest.date()
    return QueueState(queue, figures["count"], oldest)


def queues_for(user) -> list[RoleQueues]:
    """The queues this user sees, grouped under the roles they serve (in the order of
    the Role enumeration): someone holding two roles sees both sets."""
    if not user.is_authenticated:
        return []
    visible = [queue for queue in registered_queues() if queue.allows(user)]
    groups = []
    for role in Role:
        states = [queue_state(queue, user) for queue in visible if queue.role == role.value]
        if states:
            groups.append(RoleQueues(role, states))
    return groups


def active_queue(request, url_name: str) -> HomeQueue | None:
    """The queue a list page was opened with (`?queue=`), checked: 404 for an unknown
    queue or one that another page holds, 403 for a queue the user's roles do not see."""
    return active_queue_of(request, request.GET.get(QUEUE_PARAM, ""), url_name)


def active_queue_of(request, code: str, url_name: str) -> HomeQueue | None:
    """active_queue() for a code read elsewhere (a POSTed form's hidden field)."""
    if not code:
        return None
    queue = get_queue(code)
    if queue is None or queue.url_name != url_name:
        raise Http404
    if not queue.allows(request.user):
        raise PermissionDenied
    return queue


class HomeQueueListMixin:
    """A list page (SingleTableMixin + FilterView) that holds home queues: with
    `?queue=<code>` its rows are the queue's selector (the filters still narrow
    them: the queue's `query` clears those that start on a default);
    `queue_url_name` is the page's URL name. Placed before FilterView."""

    queue_url_name = ""

    def dispatch(self, request, *args, **kwargs):
        self.home_queue = None
        if request.user.is_authenticated and self.has_permission():
            self.home_queue = active_queue(request, self.queue_url_name)
        return super().dispatch(request, *args, **kwargs)

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if self.home_queue is not None:
            kwargs["queryset"] = self.home_queue.selector(self.request.user)
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["home_queue"] = self.home_queue
        context["list_url"] = reverse(self.queue_url_name)
        return context

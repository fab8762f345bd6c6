"""Reading a home page's queues as a user sees them, and following their links."""

import html
import re

from django.urls import reverse

# A waiting queue on the home page: <li … data-queue="code" data-count="n"> … <a href="url">
QUEUE = re.compile(
    r'data-testid="queue" data-queue="(?P<code>[^"]+)" data-count="(?P<count>\d+)">'
    r'\s*<span[^>]*><a [^>]*href="(?P<url>[^"]+)"'
)


def home_queues(client) -> dict[str, tuple[int, str]]:
    """{queue code: (count shown, link)} of the waiting queues on the user's home page."""
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    return {
        match["code"]: (int(match["count"]), html.unescape(match["url"]))
        for match in QUEUE.finditer(page)
    }


def list_rows(response) -> int:
    """How many rows the list page holds (every page of it, not only the first)."""
    context = response.context
    if "table" in context:
        return len(context["table"].data)  # the filtered queryset the table pages through
    if "queue_revisions" in context:
        return len(context["queue_revisions"])
    if context.get("rows") is not None:  # the forecast grid
        return len(context["rows"])
    raise AssertionError(f"Not a list page: {response.request['PATH_INFO']}")


def assert_home_counts_are_the_lists_counts(client) -> dict[str, int]:
    """Follow every queue link of the home page: the list holds as many rows as the home
    says, and says which queue it shows. Returns {code: count}."""
    queues = home_queues(client)
    for code, (count, url) in queues.items():
        response = client.get(url)
        assert response.status_code == 200, (code, url)
        assert list_rows(response) == count, (code, url, list_rows(response), count)
        assert f'data-queue="{code}"' in response.content.decode()  # its banner
    return {code: count for code, (count, _url) in queues.items()}

"""Pages read and forms posted as a person's browser does, without a browser: the
journey tests' harness (tests/procurement/test_journeys.py, test_journeys_api.py), for
any app's page tests.

`Browser(user).open(url)` gives a `Page` (its parsed HTML, data-testid lookups, state
badge, messages, links); `page.form(...)` reads a form as a browser would send it (its
fields and their current values, the hidden `form_token`, the CSRF token, the
formset's management fields, the options of each select), `fill()` types only into
fields the form has and chooses only options it offers, and `Browser.submit()` posts it
and follows the redirect. Text is read as on the screen (`norm`: every kind of space one
plain space); `tr`/`french` give what a French user reads for a source string.
"""

import io
import re
from html.parser import HTMLParser

from django.test import Client
from django.utils import translation
from pypdf import PdfReader

from dsi_finance.money import format_xpf

# ---------------------------------------------------------------------------
# Reading pages and posting their forms as a browser does

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


class Element:
    """A node of a parsed page: its tag, attributes, parent and children (elements or
    text)."""

    def __init__(self, tag: str, attrs: dict, parent: "Element | None"):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list = []

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    def iter(self):
        """This element and every element under it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def raw_text(self) -> str:
        return "".join(
            child if isinstance(child, str) else child.raw_text() for child in self.children
        )

    @property
    def text(self) -> str:
        return norm(self.raw_text())

    def find_all(self, tag: str | None = None, **attrs) -> list["Element"]:
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}

        def matches(element: Element, name: str, value) -> bool:
            if value is True:
                return name in element.attrs
            if name == "class":
                return str(value) in element.get("class", "").split()
            return element.get(name) == str(value)

        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag)
            and all(matches(element, name, value) for name, value in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs) -> "Element":
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'} {attrs}> on the page"
        return found[0]

    def has(self, tag: str | None = None, **attrs) -> bool:
        return bool(self.find_all(tag, **attrs))

    def testid(self, value: str) -> "Element":
        return self.find(data_testid=value)

    def ancestor(self, tag: str) -> "Element":
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"no <{tag}> around <{self.tag} {self.attrs}>"
        return node


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.stack[-1])
        self.stack[-1].children.append(element)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def read_fields(root: Element, skip=lambda element: False) -> tuple[dict, dict]:
    """What a browser would send from the controls under `root`, and the values each
    select offers. Controls of a <template> are inert; disabled ones are not sent."""
    fields: dict[str, str] = {}
    options: dict[str, list[str]] = {}

    def walk(node: Element) -> None:
        for child in node.children:
            if not isinstance(child, Element) or child.tag == "template" or skip(child):
                continue
            name = child.get("name")
            if (
                child.tag in ("input", "select", "textarea")
                and name
                and "disabled" not in child.attrs
            ):
                if child.tag == "input":
                    kind = child.get("type", "text").lower()
                    if kind in ("checkbox", "radio"):
                        if "checked" in child.attrs:
                            fields[name] = child.get("value", "on")
                    elif kind not in ("submit", "button", "image", "reset", "file"):
                        fields[name] = child.get("value", "")
                elif child.tag == "select":
                    choices = child.find_all("option")
                    values = [o.get("value", o.text) for o in choices]
                    options[name] = values
                    chosen = [o for o in choices if "selected" in o.attrs] or choices[:1]
                    if chosen:
                        fields[name] = chosen[0].get("value", chosen[0].text)
                else:
                    text = child.raw_text()
                    fields[name] = text[1:] if text.startswith("\n") else text
                continue
            walk(child)

    walk(root)
    return fields, options


class Form:
    """A form of a page, filled in as a person would and posted as a browser does."""

    def __init__(self, element: Element, url: str):
        self.element = element
        self.url = url
        self.fields, self.options = read_fields(element)
        self.regions: dict[str, tuple[dict, dict]] = {}

    def action(self, button: str | None = None) -> str:
        if button is not None:
            formaction = self.element.testid(button).get("formaction")
            if formaction:
                return formaction
        return self.element.get("action") or self.url

    def fill(self, values: dict) -> "Form":
        """Type or choose values: only in fields the form has, only options it offers."""
        for name, value in values.items():
            assert name in self.fields or name in self.options, f"the form has no field {name}"
            value = "" if value is None else str(value)
            if name in self.options:
                assert value in self.options[name], f"{name} offers no option {value!r}"
            self.fields[name] = value
        return self

    def add_row(self, template_id: str, prefix: str) -> int:
        """What "Add a line" does: the <template>'s row with the next index, and one more
        in TOTAL_FORMS. Returns the new row's index."""
        template = self.element.find("template", id=template_id)
        index = int(self.fields[f"{prefix}-TOTAL_FORMS"])
        fields, options = read_fields(template)
        for name, value in fields.items():
            self.fields[name.replace("__prefix__", str(index))] = value
        for name, values in options.items():
            self.options[name.replace("__prefix__", str(index))] = values
        self.fields[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
        return index

    def replace_region(self, region_id: str, region: Element) -> None:
        """What an htmx swap (outerHTML) of a region of the form does to what it sends:
        the region's controls are replaced, what was typed elsewhere stays."""
        if region_id not in self.regions:
            self.regions[region_id] = read_fields(self.element.find(id=region_id))
        old_fields, old_options = self.regions[region_id]
        fields, options = read_fields(region)
        self.fields = {k: v for k, v in self.fields.items() if k not in old_fields} | fields
        self.options = {k: v for k, v in self.options.items() if k not in old_options} | options
        self.regions[region_id] = (fields, options)


class Page:
    def __init__(self, response, url: str):
        self.response = response
        self.url = url
        self.root = parse_html(response.content.decode())

    def testid(self, value: str) -> Element:
        return self.root.testid(value)

    def has(self, value: str) -> bool:
        return self.root.has(data_testid=value)

    def text(self, value: str) -> str:
        return self.testid(value).text

    @property
    def state(self) -> str:
        return self.testid("state").get("data-state")

    @property
    def messages(self) -> list[str]:
        box = self.root.find_all("div", **{"class": "messages"})
        return [alert.text for alert in box[0].find_all(role="alert")] if box else []

    def link(self, testid: str) -> str:
        element = self.testid(testid)
        return element.get("href") or element.find("a").get("href")

    def form(self, testid: str | None = None, *, button: str | None = None) -> Form:
        """The form with that data-testid, or the one holding the button of that data-testid."""
        element = self.testid(testid) if testid else self.testid(button).ancestor("form")
        if element.tag != "form":
            element = element.find("form")
        return Form(element, self.url)


class Browser:
    """One person at their browser: logged in, CSRF checked as in production."""

    def __init__(self, user):
        self.user = user
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)

    def open(self, url: str, params: dict | None = None) -> Page:
        response = self.client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)
        full = response.request["PATH_INFO"]
        if response.request.get("QUERY_STRING"):
            full += "?" + response.request["QUERY_STRING"]
        return Page(response, full)

    def htmx(self, url: str, params: dict) -> Element:
        response = self.client.get(url, params, headers={"HX-Request": "true"})
        assert response.status_code == 200, (url, response.status_code)
        return parse_html(response.content.decode())

    def post(self, form: Form, *, button: str | None = None):
        return self.client.post(form.action(button), form.fields)

    def submit(self, form: Form, *, button: str | None = None) -> Page:
        """Post the form; it must redirect (its work done) to the page then shown."""
        response = self.post(form, button=button)
        if response.status_code != 302:
            page = Page(response, form.action(button))
            errors = [e.text for e in page.root.find_all(class_="text-danger")]
            errors += [e.text for e in page.root.find_all(class_="invalid-feedback")]
            errors += [
                (e.get("name"), e.get("value")) for e in page.root.find_all(class_="is-invalid")
            ]
            errors += [e.text for e in page.root.find_all(data_testid="form-errors")]
            raise AssertionError((response.status_code, page.messages, errors))
        return self.open(response["Location"])


# ---------------------------------------------------------------------------
# What a French user reads


def norm(text: str) -> str:
    """Text as read on the screen: every kind of space made one plain space."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def xpf(francs: int) -> str:
    """`1234567` -> `1 234 567 F CFP`, as norm() reads the `xpf` filter."""
    return norm(format_xpf(francs))


def tr(msgid: str, **params) -> str:
    """The message a French user reads for `msgid` (the catalogue's French, or the
    English source while the catalogue lacks it), spaces normalised."""
    with translation.override("fr"):
        text = translation.gettext(msgid)
    return norm(text % params if params else text)


def french(msgid: str, **params) -> str:
    """Like tr(), for a message the catalogue already translates."""
    with translation.override("fr"):
        assert translation.gettext(msgid) != msgid, f"no French for {msgid!r}"
    return tr(msgid, **params)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return norm("\n".join(page.extract_text() for page in reader.pages))

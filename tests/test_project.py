"""The project as a whole: its layout, docker-compose, lint, app boundaries, catalogue."""

import ast
import importlib
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
APPS = ("budgets", "procurement", "reporting", "archive")


def test_the_layout_has_every_part_a_newcomer_expects():
    for name in (
        "manage.py", "dsi_finance", *APPS, "templates", "static", "tests", "benchmarks",
        "pyproject.toml", "docker-compose.yml", "Dockerfile", "Makefile", "README.md", ".ci/run",
        "requirements/base.lock", "requirements/dev.lock", "package.json", "package-lock.json",
    ):  # fmt: skip
        assert (ROOT / name).exists(), name


def test_every_locked_dependency_is_pinned_with_hashes():
    for lock in ("base.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        requirements = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)(==|>=|<=|~=)?", text, re.M)
        assert requirements
        assert all(op == "==" for _name, op in requirements), lock
        assert "--hash=sha256:" in text


# --- docker-compose -------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_production_shape(compose):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_compose_application_services_build_the_projects_dockerfile(compose):
    for name in ("web", "worker", "beat", "migrate"):
        service = compose["services"][name]
        assert service["build"] == "."
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # never a value in the file
    assert (ROOT / "Dockerfile").exists()


def check_command_exists(command: list[str]) -> None:
    """Each container command names something this project really has."""
    program, *args = command
    if program == "gunicorn":
        module, attribute = args[0].split(":")
        assert hasattr(importlib.import_module(module), attribute)
        assert shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    elif program == "celery":
        app_module = args[args.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "dsi_finance"
        assert args[args.index("-A") + 2] in {"worker", "beat"}
        assert shutil.which("celery", path=str(Path(sys.executable).parent))
    elif program == "python":
        assert args[0] == "manage.py"
        assert args[1] in get_commands(), args[1]
    else:
        raise AssertionError(f"unexpected command {command}")


@pytest.mark.parametrize("service", ["web", "worker", "beat", "migrate"])
def test_each_compose_command_exists_in_the_project(compose, service):
    check_command_exists(compose["services"][service]["command"])


def test_the_dockerfile_default_command_exists_and_its_copies_exist():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1)
    check_command_exists(yaml.safe_load(cmd))
    for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M):
        *sources, _target = shlex.split(line)
        for source in sources:
            assert (ROOT / source).exists(), source
    assert "requirements/base.lock" in dockerfile


def test_compose_health_checks_use_the_health_endpoint(compose):
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


# --- Code quality ---------------------------------------------------------


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(args):
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def imported_modules(app: str) -> set[str]:
    names = set()
    for path in (ROOT / app).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        ("budgets", {"procurement", "reporting", "archive"}),
        ("procurement", {"reporting", "archive"}),
        ("archive", {"budgets", "procurement", "reporting"}),
    ],
)
def test_apps_import_only_in_the_direction_of_the_design(app, forbidden):
    assert not imported_modules(app) & forbidden


# --- The module import graph (issue 12): the kernel, the apps' internals, no circle ---

APPS = ("budgets", "procurement", "reporting", "archive")
NOT_PROJECT_CODE = {".venv", "tests", "migrations", "node_modules", "__pycache__"}
# What only budgets itself may import: its presentation and API layers. Other apps use
# its models, selectors and services, and the kernel (dsi_finance) for the rest.
BUDGETS_INTERNALS = ("views", "tables", "forms", "filters", "api")
# The kernel's composition of the apps' demo seeding: the only kernel modules that
# name apps in an import (urls.py and api_urls.py name them by dotted path only).
# Issue 12 (item 2: demo seeding in one place per app) is to turn them into a registry.
KERNEL_IMPORTS_APPS = {"dsi_finance.demo", "dsi_finance.management.commands.seed_demo"}
# Circles between modules that exist and are being fixed (issue 12); none today.
KNOWN_CYCLES: set[frozenset[str]] = set()


def project_modules() -> dict[str, Path]:
    """Every non-test, non-migration module of the project's packages: name -> path."""
    modules = {}
    for package in sorted(path.parent for path in ROOT.glob("*/__init__.py")):
        if package.name in NOT_PROJECT_CODE:
            continue
        for path in package.rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if NOT_PROJECT_CODE & set(parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at any level (function-level imports
    too), relative imports resolved; `from a import b` points at a.b when it is a
    module, else at a."""
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                wanted = [[alias.name] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                prefix = node.module
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                wanted = [[f"{prefix}.{alias.name}", prefix] for alias in node.names]
            else:
                continue
            for options in wanted:
                for option in options:
                    found = option
                    while found and found not in modules:
                        found = found.rpartition(".")[0]
                    if found:
                        if found != name:
                            targets.add(found)
                        break
        graph[name] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle of imports, as the path a → b → … → a of one of its modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components = []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                component.append(stack.pop())
                if component[-1] == node:
                    break
            if len(component) > 1:
                components.append(set(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles = []
    for component in components:  # the shortest circle through its first module
        start = min(component)
        came_from = {start: None}
        queue = [start]
        while queue:
            node = queue.pop(0)
            if node != start and start in graph[node]:
                break
            for target in sorted(graph[node]):
                if target in component and target not in came_from:
                    came_from[target] = node
                    queue.append(target)
        path = [node]
        while came_from[path[-1]] is not None:
            path.append(came_from[path[-1]])
        cycles.append([*reversed(path), start])
    return cycles


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_kernel_imports_no_app(graph):
    wrong = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "dsi_finance" and module not in KERNEL_IMPORTS_APPS
        for target in targets
        if target.split(".")[0] in APPS
    }
    assert not wrong, sorted(wrong)


def test_only_budgets_imports_its_views_tables_forms_filters_and_api(graph):
    wrong = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] != "budgets"
        for target in targets
        if target.split(".")[:2] in [["budgets", part] for part in BUDGETS_INTERNALS]
    }
    assert not wrong, sorted(wrong)


def test_budgets_imports_no_other_app(graph):
    wrong = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "budgets"
        for target in targets
        if target.split(".")[0] in APPS and target.split(".")[0] != "budgets"
    }
    assert not wrong, sorted(wrong)


def test_no_circle_between_the_project_modules(graph):
    cycles = [cycle for cycle in find_cycles(graph) if frozenset(cycle) not in KNOWN_CYCLES]
    assert not cycles, "Import circles: " + "; ".join(" → ".join(cycle) for cycle in cycles)


def test_the_circle_finder_names_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
    assert "dsi_finance.menu" in import_graph()["dsi_finance.context_processors"]


def test_no_migration_is_missing():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- French catalogue -----------------------------------------------------

CATALOGUE = ROOT / "locale" / "fr" / "LC_MESSAGES"


def test_the_french_catalogue_is_complete():
    catalogue = polib.pofile(str(CATALOGUE / "django.po"))
    assert len(catalogue) > 50
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_the_french_catalogue_uses_the_typographic_apostrophe_only():
    """« l’exercice », never « l'exercice »: one apostrophe on every screen."""
    catalogue = polib.pofile(str(CATALOGUE / "django.po"))
    straight = [
        e.msgstr or next(iter(e.msgstr_plural.values()))
        for e in catalogue
        if "'" in e.msgstr or any("'" in text for text in e.msgstr_plural.values())
    ]
    assert straight == []


def test_the_compiled_catalogue_matches_its_source():
    source = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(CATALOGUE / "django.po"))}
    compiled = {(e.msgctxt, e.msgid): e for e in polib.mofile(str(CATALOGUE / "django.mo"))}
    assert set(compiled) >= set(source)
    for key, entry in source.items():
        assert compiled[key].msgstr == entry.msgstr
        assert compiled[key].msgstr_plural == entry.msgstr_plural


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (xgettext)")
def test_every_source_string_is_in_the_catalogue(tmp_path):
    """makemessages on a copy finds no string the committed catalogue lacks."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", "node_modules", "var", ".git", "artifacts", "static", "*.pyc", ".*cache"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "-v0"],
        cwd=copy,
        check=True,
        capture_output=True,
        timeout=180,
    )
    fresh = polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in fresh if not e.msgstr and not any(e.msgstr_plural.values())]
    assert missing == []

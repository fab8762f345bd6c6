"""Runs every benchmark (benchmarks/bench_*.py) on a throw-away test database.

make bench            # or: .venv/bin/python benchmarks/run.py [--scale S] [name ...]
make bench BENCH_ARGS="--scale 0.01 procurement"

--scale S sets BENCH_SCALE (1 = the full datasets of the issues; 0.01 for a quick check).
"""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")


def main(names: list[str]) -> None:
    import django
    from django.conf import settings
    from django.test.utils import get_runner

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        modules = names or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
        for name in modules:
            print(f"# {name}")
            for line in importlib.import_module(f"bench_{name}").run():
                print(line)
    finally:
        runner.teardown_databases(old_config)


def parse(argv: list[str]) -> list[str]:
    """The benchmark names; `--scale S` (or `--scale=S`) sets BENCH_SCALE before any import."""
    names = []
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--scale" or argument.startswith("--scale="):
            value = argument.partition("=")[2] or next(arguments, "")
            try:
                scale = float(value)
            except ValueError:
                sys.exit(f"--scale needs a number, not {value!r}")
            if scale <= 0:
                sys.exit("--scale needs a number above 0")
            os.environ["BENCH_SCALE"] = value
        else:
            names.append(argument)
    return names


if __name__ == "__main__":
    main(parse(sys.argv[1:]))

"""Runs every benchmark (benchmarks/bench_*.py) on a throw-away test database.

make bench            # or: .venv/bin/python benchmarks/run.py [name ...]
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


if __name__ == "__main__":
    main(sys.argv[1:])

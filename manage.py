#!/usr/bin/env python
"""Django's command-line utility for DSI Finance."""

import os
import sys

# Commands that only read the code and write files of the repository: they serve no
# request and sign nothing, so a bare checkout (no SECRET_KEY, DEBUG off) may run
# them, e.g. to check that the migrations match the models. They get a stand-in key.
KEYLESS_COMMANDS = frozenset(
    {"makemigrations", "makemessages", "compilemessages", "collectstatic", "help", "version"}
)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command in KEYLESS_COMMANDS:
        os.environ.setdefault("SECRET_KEY", f"stand-in-key-for-{command}-only")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Load the settings first: left to the command, a mistake would surface from
        # whichever system check happens to run first, sometimes as an unrelated
        # "Models aren't loaded yet" traceback.
        settings.INSTALLED_APPS  # noqa: B018
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A configuration mistake gets its message, not a traceback.
        sys.exit(f"Configuration incorrecte : {error}")


if __name__ == "__main__":
    main()

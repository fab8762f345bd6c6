#!/usr/bin/env python
"""Django's command-line utility for DSI Finance."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsi_finance.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A configuration mistake gets its message, not a traceback.
        sys.exit(f"Configuration incorrecte : {error}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Django's command-line utility for TMW Channel Desk."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")
    if not os.environ.get("SECRET_KEY"):
        # A checkout without a SECRET_KEY is a developer's: run commands in development mode.
        # Production always sets SECRET_KEY (and the web and worker entry points never default).
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

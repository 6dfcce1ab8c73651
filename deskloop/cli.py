"""The `deskloop` command: Django's management commands without manage.py, for installed deployments.

`deskloop smtpd --port 2525` is `python manage.py smtpd --port 2525`, `deskloop fetch_mail --idle` is
`python manage.py fetch_mail --idle`, and so on for every command.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskloop.config.settings")
    from django.core.management import execute_from_command_line

    arguments = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["deskloop", *arguments])


if __name__ == "__main__":
    main()

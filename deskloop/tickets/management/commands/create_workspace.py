"""Create a workspace and its owner on a fresh (or running) installation, without the web UI or the demo seed.

    manage.py create_workspace --name "Acme" --owner-email owner@acme.test [--owner-name "Olivia"] [--language es]

The owner's password comes from the environment variable DESKLOOP_OWNER_PASSWORD, or is asked for twice when the
command runs in a terminal; it is never a command-line argument (those end up in shell history and `ps`). An
address that already has an account becomes the owner with the password it has.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import translation

from deskloop.accounts.models import User
from deskloop.core.errors import DomainError
from deskloop.tickets.services.setup import open_workspace

PASSWORD_ENV = "DESKLOOP_OWNER_PASSWORD"  # noqa: S105 (the variable's name, not a password)


class Command(BaseCommand):
    help = "Create a workspace with its owner (password from DESKLOOP_OWNER_PASSWORD or a prompt)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the workspace's name")
        parser.add_argument("--owner-email", required=True, help="the owner's email address (their sign-in)")
        parser.add_argument("--owner-name", default="", help="the owner's name")
        parser.add_argument("--language", default="en", help="the workspace's default language (en, es, ru)")

    def handle(self, *args: Any, **options: Any) -> None:
        # The operator's messages in English, whatever language an earlier caller in this process left active.
        with translation.override("en"):
            self._create(options)

    def _create(self, options: dict[str, Any]) -> None:
        email = options["owner_email"].strip().lower()
        password = None if User.objects.filter(email=email).exists() else self._password()
        try:
            owner = open_workspace(
                name=options["name"],
                owner_email=email,
                owner_name=options["owner_name"],
                password=password,
                language=options["language"],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        workspace = owner.workspace
        self.stdout.write(
            f"Created workspace {workspace.name!r} (slug {workspace.slug}, ticket prefix {workspace.ticket_prefix}) "
            f"with owner {owner.user.email}.\n"
            f"Sign in at {settings.SITE_URL.rstrip('/')}{reverse('accounts:login')}"
            + ("" if password else " with the account's existing password.")
        )

    def _password(self) -> str:
        from_env = os.environ.get(PASSWORD_ENV, "")
        if from_env:
            return from_env
        if not sys.stdin.isatty():
            raise CommandError(f"Give the owner's password in {PASSWORD_ENV}, or run the command in a terminal.")
        first = getpass.getpass("Owner's password: ")
        if first != getpass.getpass("The same password again: "):
            raise CommandError("The two passwords differ.")
        return first

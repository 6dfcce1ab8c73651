"""A helper process for the crash test: sets Django up once, then forks one `fetch_mail --once -v 3` run for each
"run" line on stdin, so the test can SIGKILL many runs without paying Django's start-up for each.

Protocol on stdout: "ready" once; per run, the child prints "pid N" and then the command's own lines, and after
the child has ended this process prints "exit STATUS" (the raw wait status; SIGKILL shows as 9).
Usage: python -m deskloop.channels.email.tests.fetcher_forks MAILBOX_ADDRESS
"""

from __future__ import annotations

import os
import sys
import traceback


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskloop.config.test_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    address = sys.argv[1]
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        connections.close_all()  # a forked child must open its own database connection
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                print(f"pid {os.getpid()}", flush=True)
                call_command("fetch_mail", "--mailbox", address, "--once", "-v", "3")
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)


if __name__ == "__main__":
    main()

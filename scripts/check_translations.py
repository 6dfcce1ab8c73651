#!/usr/bin/env python
"""Fail when a user-facing string has no Spanish or Russian translation, or a compiled catalogue is stale.

Runs `makemessages` (needs GNU gettext) to collect every msgid in the code, then checks that each catalogue
translates all of them (no empty, no fuzzy entries) and that the committed .mo matches the .po.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["es", "ru"]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskloop.config.settings")
    python = sys.executable
    # Run from deskloop/ so only the project's own code is scanned (not .venv, bench or e2e).
    subprocess.run(
        [
            python,
            str(ROOT / "manage.py"),
            "makemessages",
            "--no-obsolete",
            "--no-location",
            *[arg for lang in LANGUAGES for arg in ("-l", lang)],
        ],
        cwd=ROOT / "deskloop",
        check=True,
        stdout=subprocess.DEVNULL,
    )
    import polib

    problems: list[str] = []
    for lang in LANGUAGES:
        po_path = ROOT / "deskloop" / "locale" / lang / "LC_MESSAGES" / "django.po"
        catalogue = polib.pofile(str(po_path))
        for entry in catalogue:
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                problems.append(f"{lang}: fuzzy: {entry.msgid!r}")
            elif entry.msgid_plural:
                if not all(entry.msgstr_plural.values()):
                    problems.append(f"{lang}: untranslated plural: {entry.msgid!r}")
            elif not entry.msgstr:
                problems.append(f"{lang}: untranslated: {entry.msgid!r}")
        mo_path = po_path.with_suffix(".mo")
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "django.mo"
            subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po_path)], check=True)
            if (
                not mo_path.exists()
                or polib.mofile(str(mo_path)).__unicode__() != polib.mofile(str(fresh)).__unicode__()
            ):
                problems.append(f"{lang}: {mo_path.relative_to(ROOT)} is stale; run `make messages`")
    if problems:
        print("Translation catalogues are incomplete:", *problems[:200], sep="\n  ")
        if len(problems) > 200:
            print(f"  ... and {len(problems) - 200} more")
        return 1
    print(f"translations complete for {', '.join(LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

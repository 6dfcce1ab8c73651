#!/usr/bin/env python
"""Refresh the Spanish and Russian catalogues and fill them from scripts/translations/<lang>.json.

The JSON files are the source of truth for translations (msgid -> msgstr, or msgid -> list of plural forms;
entries with a msgctxt are keyed "context\\u0004msgid"). The .po files are regenerated from the code with
`makemessages`, so rerunning after other people add strings shows exactly what is still missing:

    .venv/bin/python scripts/apply_translations.py

Steps: makemessages (from deskloop/, so only our code is scanned) -> set the catalogue header -> fill every
entry the JSON knows (clearing its fuzzy flag) -> write the .po -> compilemessages -> list what is missing.
Entries the JSON does not know are left as they are (a fuzzy guess from msgmerge stays fuzzy, so it still
counts as missing). Running it twice in a row changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polib  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "deskloop"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
CONTEXT_SEPARATOR = "\x04"

# Django copies CLDR-style plural rules into new catalogues (3 forms for es, 4 for ru); we use the classic
# gettext rules instead, which the JSON files are written for: es one/other, ru one/few/many.
PLURAL_FORMS = {
    "es": "nplurals=2; plural=(n != 1);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
}
LANGUAGE_TEAMS = {"es": "Spanish", "ru": "Russian"}


def catalogue_path(lang: str) -> Path:
    return SOURCE_DIR / "locale" / lang / "LC_MESSAGES" / "django.po"


def entry_key(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}{CONTEXT_SEPARATOR}{entry.msgid}" if entry.msgctxt else entry.msgid


def run_manage(*args: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "deskloop.config.settings")}
    # Fixed argv: our own interpreter and manage.py with arguments from this file.
    subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=SOURCE_DIR,
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def set_header(catalogue: polib.POFile, lang: str) -> None:
    catalogue.header = (
        f"Deskloop {LANGUAGE_TEAMS[lang]} catalogue. Do not edit by hand: translations live in\n"
        f"scripts/translations/{lang}.json and scripts/apply_translations.py writes this file."
    )
    catalogue.metadata["Project-Id-Version"] = "Deskloop"
    catalogue.metadata["Language"] = lang
    catalogue.metadata["Language-Team"] = LANGUAGE_TEAMS[lang]
    catalogue.metadata["Plural-Forms"] = PLURAL_FORMS[lang]
    catalogue.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    # makemessages marks a brand-new header fuzzy; msgfmt then ignores it (and with it the plural rules).
    catalogue.metadata_is_fuzzy = []


def nplurals(lang: str) -> int:
    return int(PLURAL_FORMS[lang].split(";")[0].split("=")[1])


def fill(catalogue: polib.POFile, lang: str, translations: dict[str, str | list[str]]) -> list[str]:
    """Fill entries from ``translations``; return the (quoted) keys of entries still untranslated or fuzzy."""
    forms = nplurals(lang)
    missing: list[str] = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        key = entry_key(entry)
        translation = translations.get(key)
        if translation is None:
            translated = all(entry.msgstr_plural.values()) if entry.msgid_plural else bool(entry.msgstr)
            if not translated or "fuzzy" in entry.flags:
                missing.append(f"{key!r} (plural: {entry.msgid_plural!r})" if entry.msgid_plural else repr(key))
            continue
        if entry.msgid_plural:
            if not isinstance(translation, list) or len(translation) != forms or not all(translation):
                raise SystemExit(f"{lang}.json: {key!r} needs a list of {forms} plural forms")
            entry.msgstr_plural = dict(enumerate(translation))
        else:
            if not isinstance(translation, str) or not translation:
                raise SystemExit(f"{lang}.json: {key!r} needs a non-empty string")
            entry.msgstr = translation
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        # msgmerge's "#| msgid" notes only explain a fuzzy guess; they are noise once the entry is filled.
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        entry.previous_msgctxt = None
    return missing


def main() -> int:
    languages = sorted(PLURAL_FORMS)
    run_manage("makemessages", "--no-obsolete", "--no-location", *[a for lang in languages for a in ("-l", lang)])
    all_missing: dict[str, list[str]] = {}
    for lang in languages:
        path = catalogue_path(lang)
        translations = json.loads((TRANSLATIONS_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        catalogue = polib.pofile(str(path), wrapwidth=79)
        set_header(catalogue, lang)
        all_missing[lang] = fill(catalogue, lang, translations)
        catalogue.save(str(path))
        unused = sorted(set(translations) - {entry_key(e) for e in catalogue if not e.obsolete})
        if unused:
            print(f"{lang}: {len(unused)} translation(s) in {lang}.json no longer used by the code")
            for key in unused:
                print(f"  unused: {key!r}")
    run_manage("compilemessages", *[a for lang in languages for a in ("-l", lang)])
    for lang in languages:
        missing = all_missing[lang]
        print(f"{lang}: {len(missing)} missing")
        for key in missing:
            print(f"  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

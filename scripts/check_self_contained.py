#!/usr/bin/env python
"""Fail when code, tests, benchmarks or build files reach outside the repository for data (``../shared``).

Whoever clones only this repository must be able to run `make run` and `make test`: the real-world test data the
suite uses is copied into testdata/ with its LICENSE and SOURCE files. Documentation may name where the data came
from; anything that runs may not read it from there.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = re.compile(r"(\.py|\.sh|\.toml|\.cfg|\.ini|\.js|\.html)$|(^|/)(Makefile|run|pg-throwaway)$")
# "../shared" as a string, or a path joined with a "shared" part: REPO.parent / "shared", ... / "shared" / "data".
OUTSIDE = re.compile(r"""\.\./shared\b|/\s*["']shared["']|["']shared["']\s*/""")


def tracked_and_new_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return [name for name in listing.stdout.splitlines() if not name.startswith("testdata/")]


def main() -> int:
    me = Path(__file__).resolve()
    offenders = []
    for name in tracked_and_new_files():
        path = ROOT / name
        if path.resolve() == me or not RUNNABLE.search(name) or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    if offenders:
        print("These lines reach outside the repository for data; copy what they need into testdata/:")
        print("\n".join(offenders))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Security headers as a browser sees them: a Content-Security-Policy on every page, ``no-store`` on what was
answered to a signed-in agent or an API token, and HSTS with the SSL redirect in the documented production setup
(where ``manage.py check --deploy`` has nothing to say)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast, signed_in_client

REPO = Path(settings.BASE_DIR)


def _policy(header: str) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/login/", "/healthz", "/api/v1/docs", "/no-such-page/"])
def test_every_page_carries_a_policy_that_refuses_inline_scripts(db: None, path: str) -> None:
    response = Client().get(path)
    policy = _policy(response["Content-Security-Policy"])
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_agent_pages_are_never_stored(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    for path in ["/", f"/tickets/{acme.ticket.number}/", "/contacts/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path
        assert "Content-Security-Policy" in response


def test_api_answers_for_a_token_are_never_stored(acme: Cast) -> None:
    _token, secret = create_api_token(agent=acme.agent, name="CI")
    response = Client(headers={"authorization": f"Bearer {secret}"}).get(f"/api/v1/tickets/{acme.ticket.number}")
    assert response.status_code == 200
    assert json.loads(response.content)["subject"] == "Invoice shows the wrong VAT number"
    assert "no-store" in response["Cache-Control"]


def test_the_public_sign_in_page_is_not_marked_personal(db: None) -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# Nothing in a template may need 'unsafe-inline': no inline <script>, no on*= handler, no style="" attribute.
# (Emails are not web pages: their templates keep inline styles, which mail clients need.)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
_STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)


def test_templates_need_no_inline_script_or_style() -> None:
    offenders = []
    for template in sorted((REPO / "deskloop").rglob("templates/**/*.html")):
        if "/emails/" in template.as_posix() or "/tests/" in template.as_posix():
            continue
        text = template.read_text(encoding="utf-8")
        for pattern in (_INLINE_SCRIPT, _HANDLER, _STYLE_ATTRIBUTE):
            offenders += [f"{template.relative_to(REPO)}: {match}" for match in pattern.findall(text)]
    assert offenders == []


def _documented_production_environment(tmp_path: Path) -> dict[str, str]:
    """The environment docs/operations.md tells an operator to export, with a real secret key file."""
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    block = re.search(r"^export (.+?)\n(?!\s)", text, re.MULTILINE | re.DOTALL)
    assert block is not None, "docs/operations.md no longer shows the production environment"
    words = block.group(1).replace("\\\n", " ").split()
    documented = dict(word.split("=", 1) for word in words)
    assert documented["DESKLOOP_HTTPS"] == "1"
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" + os.urandom(40).hex(), encoding="utf-8")
    documented["SECRET_KEY_FILE"] = str(key_file)
    (tmp_path / "var").mkdir()
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "deskloop.config.settings",
        # A SQLite file of its own, whichever database the suite runs on.
        "DESKLOOP_VAR_DIR": str(tmp_path / "var"),
        **documented,
    }


def test_check_deploy_is_clean_in_the_documented_production_setup(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=_documented_production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


_REQUESTS = """
from django.test import Client
plain = Client().get("/login/", HTTP_HOST="help.example.com")
proxied = Client().get("/login/", HTTP_HOST="help.example.com", HTTP_X_FORWARDED_PROTO="https")
health = Client().get("/healthz", HTTP_HOST="help.example.com")
print(plain.status_code, plain["Location"])
print(proxied.status_code, proxied["Strict-Transport-Security"], proxied.cookies["csrftoken"]["secure"])
print(health.status_code)
"""


def test_https_setup_redirects_plain_http_and_sends_hsts(tmp_path: Path) -> None:
    environment = _documented_production_environment(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=environment, check=True)
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", _REQUESTS],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "301 https://help.example.com/login/",
        "200 max-age=31536000; includeSubDomains; preload True",
        "200",
    ]

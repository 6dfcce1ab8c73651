"""Issue #9: every settings screen is shown inside the settings layout (its side menu with the current screen
marked), including the ones other apps register (webhooks, mailboxes, email templates, quarantine)."""

from __future__ import annotations

from django.urls import reverse

from deskloop.accounts.settings_screens import screens_for
from deskloop.conftest import Cast, signed_in_client


def test_every_settings_screen_uses_the_settings_layout(acme: Cast) -> None:
    client = signed_in_client(acme.owner)
    screens = [screen for _group, group_screens in screens_for(acme.owner) for screen in group_screens]
    assert len(screens) > 8
    missing = []
    for screen in screens:
        url = reverse(screen.url_name)
        html = client.get(url).content.decode()
        if 'class="settings-nav"' not in html or f'<a href="{url}" aria-current="page">' not in html:
            missing.append(url)
    assert missing == []

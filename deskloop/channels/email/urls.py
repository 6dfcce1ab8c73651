"""Routes of the email channel: mailbox settings and quarantine for admins, and the HTTP inbound endpoint."""

from django.urls import path

from . import refused_views, template_views, views
from .email_templates import EDITABLE_KINDS

app_name = "email_channel"

urlpatterns = [
    path("settings/mailboxes/", views.mailbox_list, name="mailboxes"),
    path("settings/mailboxes/new/", views.mailbox_create, name="mailbox_create"),
    path("settings/mailboxes/<int:mailbox_id>/", views.mailbox_detail, name="mailbox"),
    path("settings/mailboxes/new/imap-test/", views.mailbox_imap_test, name="mailbox_imap_test_new"),
    path("settings/mailboxes/<int:mailbox_id>/imap-test/", views.mailbox_imap_test, name="mailbox_imap_test"),
    path(
        "settings/mailboxes/<int:mailbox_id>/inbound-secret/",
        views.mailbox_inbound_secret,
        name="mailbox_inbound_secret",
    ),
    path("settings/mailboxes/quarantine/", views.quarantine_list, name="quarantine"),
    path("settings/mailboxes/quarantine/<int:inbound_id>/", views.inbound_detail, name="inbound"),
    path("settings/mailboxes/quarantine/<int:inbound_id>/raw/", views.inbound_raw, name="inbound_raw"),
    path("settings/mailboxes/quarantine/<int:inbound_id>/retry/", views.inbound_retry, name="inbound_retry"),
    path("inbound/email/<int:mailbox_id>/", views.inbound_http, name="inbound_http"),
    path("inbox/refused-mail/", refused_views.refused_list, name="refused_mail"),
    path("inbox/refused-mail/<int:inbound_id>/deliver/", refused_views.refused_deliver, name="refused_deliver"),
    path("settings/mail-allow-list/", refused_views.allow_list, name="allow_list"),
    path(
        "settings/mail-allow-list/<int:allowance_id>/remove/", refused_views.allow_list_remove, name="allow_list_remove"
    ),
    path("settings/email-templates/", template_views.template_list, name="email_templates"),
    # One route per template kind (a fixed set), not a <kind> parameter: reverse with kwargs={"kind": ...}.
    *[
        path(f"settings/email-templates/{kind}/", template_views.template_edit, {"kind": kind}, name="email_template")
        for kind in EDITABLE_KINDS
    ],
]

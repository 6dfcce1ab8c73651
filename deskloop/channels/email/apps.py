from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "deskloop.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job

        from .imap import poll_mailboxes
        from .inbound import finish_received_mail

        # IMAP mailboxes are polled by the scheduler; `fetch_mail --idle` is the low-latency alternative.
        register_job("fetch_mail", 60, poll_mailboxes)
        # Mail a crashed fetcher or listener stored but never processed.
        register_job("finish_received_mail", 300, finish_received_mail)

        from deskloop.core.outbox import register_consumer

        from .consumers import consume_outbox_event
        from .outbound_sending import send_due_emails

        # Replies and notifications become emails from the outbox; retries whose deferred task was lost are swept.
        register_consumer(consume_outbox_event)
        from .idea_mail import consume_outbox_event as tell_who_asked_when_an_idea_ships

        # Closing the loop: everyone who asked for an idea hears once when it ships (ideas.shipping names them).
        register_consumer(tell_who_asked_when_an_idea_ships)
        register_job("send_due_emails", 60, send_due_emails)

        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        for screen in (
            Screen(
                "email_channel:mailboxes",
                _("Mailboxes"),
                _("Email addresses that turn mail into tickets; the quarantine."),
                SettingsGroup.INTEGRATIONS,
                Capability.ADMIN,
                ("email_channel:mailbox", "email_channel:quarantine", "email_channel:inbound"),
                10,
            ),
            Screen(
                "email_channel:allow_list",
                _("Mail allow list"),
                _("Senders and domains whose mail is never refused as list or bulk mail."),
                SettingsGroup.INTEGRATIONS,
                Capability.ADMIN,
                ("email_channel:allow_list",),
                15,
            ),
            Screen(
                "email_channel:email_templates",
                _("Email templates"),
                _("The wording of acknowledgements and notifications sent to customers and agents."),
                SettingsGroup.INTEGRATIONS,
                Capability.ADMIN,
                ("email_channel:email_template",),
                20,
            ),
        ):
            register_screen(screen)

        from deskloop.tickets.inbox_links import InboxLink, register_inbox_link

        # Refusals are reviewed from the inbox side, where a missing customer email is looked for.
        register_inbox_link(InboxLink("email_channel:refused_mail", _("Refused mail"), Capability.ADMIN, 10))

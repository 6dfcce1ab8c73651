from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "deskloop.tickets"
    label = "tickets"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job
        from deskloop.tickets.attachments import purge_orphan_blobs
        from deskloop.tickets.services.lifecycle import purge_trash
        from deskloop.tickets.services.notifications import notify_in_app
        from deskloop.tickets.services.presence_cleanup import forget_stale_presence

        register_job("forget_stale_presence", 300, forget_stale_presence)
        register_job("purge_trash", 3600, purge_trash)
        # After purge_trash, so the files of tickets purged in this round go in the same round.
        register_job("purge_orphan_blobs", 3600, purge_orphan_blobs)
        register_consumer(notify_in_app)
        self._register_settings_screens()
        from deskloop.accounts.preferences import register_start_views
        from deskloop.tickets.views.inbox_page import start_view_choices

        register_start_views(start_view_choices)

    def _register_settings_screens(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        tickets, admins = SettingsGroup.TICKETS, Capability.ADMIN
        for screen in (
            Screen(
                "admin_settings:statuses",
                _("Statuses"),
                _("The statuses tickets move through and their categories."),
                tickets,
                admins,
                ("admin_settings:status",),
                10,
            ),
            Screen(
                "admin_settings:fields",
                _("Custom fields"),
                _("Extra ticket fields, and which must be filled in to solve."),
                tickets,
                admins,
                ("admin_settings:field",),
                20,
            ),
            Screen(
                "admin_settings:tags",
                _("Tags"),
                _("Rename, merge and delete tags."),
                tickets,
                admins,
                ("admin_settings:tag",),
                30,
            ),
            Screen(
                "admin_settings:areas",
                _("Product areas"),
                _("The parts of your product tickets and feedback are about."),
                tickets,
                admins,
                ("admin_settings:area",),
                40,
            ),
            Screen(
                "admin_settings:macros",
                _("Macros"),
                _("Canned replies that can also set status, tags and assignee."),
                tickets,
                Capability.WRITE,
                ("admin_settings:macro",),
                50,
            ),
        ):
            register_screen(screen)

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

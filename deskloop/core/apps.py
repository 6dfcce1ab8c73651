from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deskloop.core"
    label = "core"

    def ready(self) -> None:
        from deskloop.core import outbox
        from deskloop.core.api_support import purge_idempotency_records, purge_rate_counters
        from deskloop.core.periodic import register_job
        from deskloop.core.public_limits import purge_public_rate_counters

        # Outbox events whose on-commit task never ran (the worker was down): hand them to consumers now.
        register_job("dispatch_outbox", 30, outbox.dispatch_pending)
        register_job("purge_idempotency_records", 3600, purge_idempotency_records)
        register_job("purge_rate_counters", 3600, purge_rate_counters)
        register_job("purge_public_rate_counters", 3600, purge_public_rate_counters)

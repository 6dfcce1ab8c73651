from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "deskloop.reports"
    label = "reports"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from deskloop.core.periodic import register_job
        from deskloop.reports.percentiles import register_on_sqlite
        from deskloop.reports.summary import send_weekly_summaries

        # Monday 08:00 in each workspace's time zone; every ten minutes is early enough and cheap when nothing is due.
        register_job("reports_weekly_summary", 600, send_weekly_summaries)
        connection_created.connect(register_on_sqlite, dispatch_uid="deskloop.reports.nearest_rank")

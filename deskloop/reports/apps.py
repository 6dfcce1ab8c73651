from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "deskloop.reports"
    label = "reports"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job
        from deskloop.reports.summary import send_weekly_summaries

        # Monday 08:00 in each workspace's time zone; every ten minutes is early enough and cheap when nothing is due.
        register_job("reports_weekly_summary", 600, send_weekly_summaries)

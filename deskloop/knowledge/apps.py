from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "deskloop.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job
        from deskloop.knowledge.services.deflection_sweep import judge_request_sessions

        # Idle sessions end after 30 minutes and windows after 72 hours: every five minutes is fine-grained enough.
        register_job("judge_request_sessions", 300, judge_request_sessions)

from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "deskloop.ideas"
    label = "ideas"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job
        from deskloop.ideas.services.values import refresh_all_workspaces_values

        # An organization's MRR changes in the customers app, which knows nothing of ideas: the cached scores catch up
        # here (each vote already refreshes its own idea at once).
        register_job("refresh_idea_values", 600, refresh_all_workspaces_values)

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "deskloop.surveys"
    label = "surveys"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job
        from deskloop.surveys.services.invitations import ask_after_solved, send_due_nps_invitations

        # CSAT: a solved ticket asks its requester (tickets know nothing of surveys).
        register_consumer(ask_after_solved)
        # NPS by email: due contacts are asked in batches; the gap per contact is enforced by the invitation service.
        register_job("send_nps_invitations", 3600, send_due_nps_invitations)

        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "surveys:surveys",
                _("Surveys"),
                _("NPS, CSAT and micro-surveys: questions, how often a customer is asked, and to whom."),
                SettingsGroup.WORKSPACE,
                Capability.ADMIN,
                ("surveys:survey",),
                40,
            )
        )

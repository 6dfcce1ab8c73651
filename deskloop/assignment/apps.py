"""Who gets a new ticket: round-robin or least-loaded within a team, among agents who are available, on shift
and under their capacity; tickets of an agent who goes off shift are handed on."""

from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "deskloop.assignment"
    label = "assignment"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen
        from deskloop.assignment.jobs import consume_outbox_event, hand_on_tickets_of_unavailable_agents
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job

        register_consumer(consume_outbox_event)
        # Every minute: the hand-on delay is set in minutes.
        register_job("hand_on_tickets_of_unavailable_agents", 60, hand_on_tickets_of_unavailable_agents)
        register_screen(
            Screen(
                "routing_settings:routing",
                _("Ticket routing"),
                _("Round-robin or least-loaded assignment per team; agents' shifts and capacity."),
                SettingsGroup.TICKETS,
                Capability.ADMIN,
                ("routing_settings:",),
                80,
            )
        )

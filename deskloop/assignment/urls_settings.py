from django.urls import path

from deskloop.assignment import views

app_name = "routing_settings"

urlpatterns = [
    path("", views.routing_settings, name="routing"),
    path("teams/<int:team_id>/", views.team_routing_save, name="team"),
    path("agents/<int:agent_id>/", views.agent_schedule_save, name="agent"),
]

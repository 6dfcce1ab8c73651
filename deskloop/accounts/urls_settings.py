"""Settings screens of the accounts app, mounted under /settings/ (the tickets app adds its own beside them)."""

from django.urls import path

from deskloop.accounts import views_people, views_settings

app_name = "settings"

urlpatterns = [
    path("", views_settings.home, name="home"),
    path("profile/", views_settings.profile, name="profile"),
    path("profile/password/", views_settings.password, name="password"),
    path("profile/start-view/", views_settings.start_view, name="start_view"),
    path("tokens/", views_settings.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views_settings.token_revoke, name="token_revoke"),
    path("workspace/", views_settings.workspace, name="workspace"),
    path("workspace/private-targets/", views_settings.private_targets, name="private_targets"),
    path("agents/", views_people.agents, name="agents"),
    path("agents/<int:agent_id>/", views_people.agent_detail, name="agent"),
    path("agents/<int:agent_id>/role/", views_people.agent_role, name="agent_role"),
    path("agents/<int:agent_id>/active/", views_people.agent_active, name="agent_active"),
    path("invitations/", views_people.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/resend/", views_people.invitation_resend, name="invitation_resend"),
    path("invitations/<int:invitation_id>/revoke/", views_people.invitation_revoke, name="invitation_revoke"),
    path("teams/", views_people.teams, name="teams"),
    path("teams/<int:team_id>/", views_people.team_detail, name="team"),
    path("teams/<int:team_id>/members/", views_people.team_members, name="team_members"),
]

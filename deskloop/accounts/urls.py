from django.urls import path

from deskloop.accounts import views, views_invitations

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("workspaces/", views.choose_workspace, name="choose_workspace"),
    path("invitations/<str:token>/", views_invitations.accept_invitation, name="accept_invitation"),
]

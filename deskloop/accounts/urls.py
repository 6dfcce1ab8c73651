from django.urls import path

from deskloop.accounts import views, views_invitations, views_password

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("workspaces/", views.choose_workspace, name="choose_workspace"),
    path("password-reset/", views_password.password_reset_request, name="password_reset"),
    path(
        "password-reset/<str:uidb64>/<str:token>/", views_password.password_reset_confirm, name="password_reset_confirm"
    ),
    path("invitations/<str:token>/", views_invitations.accept_invitation, name="accept_invitation"),
]

from django.urls import include, path

urlpatterns = [
    path("", include("deskloop.accounts.urls")),
]

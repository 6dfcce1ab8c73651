from django.urls import path

from deskloop.knowledge import views_deflection as views

app_name = "deflection"

urlpatterns = [
    path("", views.report, name="report"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions.csv", views.sessions_csv, name="sessions_csv"),
]

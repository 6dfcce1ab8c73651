from django.urls import path

from deskloop.reports import views

app_name = "reports"

urlpatterns = [
    path("tickets/", views.tickets, name="tickets"),
    path("tickets.csv", views.tickets_csv, name="tickets_csv"),
]

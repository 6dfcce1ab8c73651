from django.urls import path

from deskloop.reports import views
from deskloop.reports.pages import REPORTS

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("weekly-summary/", views.weekly_summary, name="weekly_summary"),
    path("tickets/", views.tickets, name="tickets"),
    path("tickets.csv", views.tickets_csv, name="tickets_csv"),
    # One fixed path per report (not a <report> parameter): each is a page of its own, and a bookmark.
    *(path(f"{name}/", views.report, {"report": name}, name=name) for name in REPORTS),
]

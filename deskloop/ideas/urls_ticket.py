"""The ticket page's Ideas panel: /tickets/<number>/ideas/... (the panel is registered by IdeasConfig)."""

from django.urls import path

from deskloop.ideas import views_ticket

app_name = "ideas_ticket"

urlpatterns = [
    path("tickets/<int:number>/ideas/search/", views_ticket.search, name="search"),
    path("tickets/<int:number>/ideas/vote/", views_ticket.vote, name="vote"),
]

from django.urls import path

from deskloop.surveys import links

app_name = "survey_links"

urlpatterns = [
    path("<str:token>/", links.page, name="page"),
    path("<str:token>/comment/", links.comment, name="comment"),
    path("<str:token>/thanks/", links.thanks, name="thanks"),
    path("<str:token>/<int:score>/", links.answer, name="answer"),
]

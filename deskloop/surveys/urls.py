from django.urls import path

from deskloop.surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.results, name="results"),
    path("responses/", views.responses, name="responses"),
    path("responses/<int:response_id>/", views.response_detail, name="response"),
    path("responses/<int:response_id>/vote/", views.response_vote, name="response_vote"),
    path("settings/", views.survey_list, name="surveys"),
    path("settings/new/", views.survey_edit, name="survey_create"),
    path("settings/<int:survey_id>/", views.survey_edit, name="survey"),
]

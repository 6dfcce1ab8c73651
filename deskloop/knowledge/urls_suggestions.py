from django.urls import path

from deskloop.knowledge import views_suggestions

app_name = "knowledge_suggestions"

urlpatterns = [
    path("help/<slug:workspace_slug>/suggestions", views_suggestions.public_suggestions, name="public"),
]

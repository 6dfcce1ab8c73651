from django.urls import path

from deskloop.staffing import views

app_name = "staffing"

urlpatterns = [
    path("", views.overview, name="overview"),
]

from django.urls import path

from deskloop.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("areas/<int:area_id>/", views.area, name="area"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
]

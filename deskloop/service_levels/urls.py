from django.urls import path

from deskloop.service_levels import views

app_name = "service_levels"

urlpatterns = [
    path("", views.policy_list, name="policies"),
    path("new/", views.policy_create, name="policy_create"),
    path("<int:policy_id>/", views.policy_detail, name="policy"),
    path("<int:policy_id>/delete/", views.policy_delete, name="policy_delete"),
]

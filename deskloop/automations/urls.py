from django.urls import path

from deskloop.automations import views

app_name = "automations"

urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("new/", views.rule_create, name="rule_create"),
    path("rows/condition/", views.condition_row, name="condition_row"),
    path("rows/action/", views.action_row, name="action_row"),
    path("<int:rule_id>/", views.rule_detail, name="rule"),
    path("<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("<int:rule_id>/runs/", views.rule_runs, name="runs"),
]

from django.urls import path

from deskloop.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoints"),
    path("new/", views.endpoint_create, name="endpoint_create"),
    path("<int:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path("<int:endpoint_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("<int:endpoint_id>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint_rotate_secret"),
    path("<int:endpoint_id>/deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="delivery_replay"),
]

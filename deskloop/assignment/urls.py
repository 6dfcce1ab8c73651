from django.urls import path

from deskloop.assignment import views

app_name = "assignment"

urlpatterns = [
    path("availability/", views.availability_list, name="availability"),
    path("availability/me/", views.my_availability, name="my_availability"),
]

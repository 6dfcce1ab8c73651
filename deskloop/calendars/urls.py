from django.urls import path

from deskloop.calendars import views

app_name = "calendars"

urlpatterns = [
    path("", views.calendar_list, name="calendars"),
    path("new/", views.calendar_create, name="calendar_create"),
    path("<int:calendar_id>/", views.calendar_detail, name="calendar"),
    path("<int:calendar_id>/delete/", views.calendar_delete, name="calendar_delete"),
    path("<int:calendar_id>/holidays/", views.holiday_add, name="holiday_add"),
    path("<int:calendar_id>/holidays/import/", views.holiday_import, name="holiday_import"),
    path("<int:calendar_id>/holidays/<int:holiday_id>/delete/", views.holiday_remove, name="holiday_remove"),
]

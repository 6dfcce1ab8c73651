"""The inbox, saved views, bulk actions, search and notifications."""

from django.urls import path

from deskloop.tickets.views import inbox

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("inbox/sidebar/", inbox.inbox_sidebar, name="inbox_sidebar"),
    path("inbox/organizations/", inbox.organization_filter_options, name="organization_filter_options"),
    path("inbox/bulk/", inbox.bulk, name="bulk"),
    path("inbox/views/", inbox.save_view, name="save_view"),
    path("inbox/views/<int:view_id>/", inbox.open_view, name="open_view"),
    path("inbox/views/<int:view_id>/delete/", inbox.delete_view, name="delete_view"),
    path("search/", inbox.search_view, name="search"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("notifications/read/", inbox.notifications_read, name="notifications_read"),
    path("badges/", inbox.badges, name="badges"),
]

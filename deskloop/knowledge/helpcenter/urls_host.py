"""The whole URL configuration of a request on a help center's own host name (see hosts.py): the help center at /,
with the same URL names as under /help/<workspace-slug>/."""

from django.urls import include, path

urlpatterns = [path("", include("deskloop.knowledge.helpcenter.urls"))]

# The agents' error pages link to the inbox, which this URL configuration does not have.
handler404 = "deskloop.knowledge.helpcenter.views.not_found"

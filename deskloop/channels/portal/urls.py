"""The customer portal: /portal/<workspace-slug>/..."""

from django.urls import path

from deskloop.channels.portal import views, views_request

app_name = "portal"

urlpatterns = [
    path("portal/<slug:slug>/", views.home, name="home"),
    path("portal/<slug:slug>/signin/", views.sign_in, name="signin"),
    path("portal/<slug:slug>/signin/<str:token>/", views.sign_in_link, name="signin_link"),
    path("portal/<slug:slug>/signout/", views.sign_out, name="signout"),
    path("portal/<slug:slug>/tickets/<int:number>/", views.ticket, name="ticket"),
    path("portal/<slug:slug>/tickets/<int:number>/reply/", views.reply, name="reply"),
    path("portal/<slug:slug>/tickets/<int:number>/solve/", views.solve, name="solve"),
    path("portal/<slug:slug>/files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("portal/<slug:slug>/new/", views_request.new_request, name="new_request"),
    path("portal/<slug:slug>/new/received/", views_request.request_received, name="request_received"),
    path("portal/<slug:slug>/new/suggestions/", views_request.suggestions, name="suggestions"),
    path("portal/<slug:slug>/articles/<int:article_id>/", views_request.article, name="article"),
    path("portal/<slug:slug>/articles/<int:article_id>/solved/", views_request.article_solved, name="article_solved"),
]

from django.urls import path

from deskloop.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("draw/", views.draw_sample, name="draw"),
    path("mine/", views.mine, name="mine"),
    path("agents/", views.by_agent, name="agents"),
    path("tickets/<int:number>/review/", views.review, name="review"),
    path("reviews/<int:review_id>/", views.review_detail, name="review_detail"),
    path("settings/", views.settings, name="settings"),
    path("settings/criteria/", views.criterion_add, name="criterion_add"),
    path("settings/criteria/<int:criterion_id>/", views.criterion, name="criterion"),
    path("settings/criteria/<int:criterion_id>/remove/", views.criterion_remove, name="criterion_remove"),
]

from django.urls import path

from deskloop.channels.widget import demo_host, ideas_tab, loader, survey_tab, views

app_name = "widget"

urlpatterns = [
    path("widget.js", loader.loader, name="loader"),
    path("widget-demo/", demo_host.demo_host, name="demo"),
    path("widget/<slug:slug>/panel/", views.panel, name="panel"),
    path("widget/<slug:slug>/answers/", views.answers, name="answers"),
    path("widget/<slug:slug>/suggestions/", views.suggestions, name="suggestions"),
    path("widget/<slug:slug>/articles/<int:article_id>/", views.article, name="article"),
    path("widget/<slug:slug>/solved/", views.solved, name="solved"),
    path("widget/<slug:slug>/identify/", views.identify, name="identify"),
    path("widget/<slug:slug>/requests/", views.submit, name="submit"),
    path("widget/<slug:slug>/conversations/", views.conversations, name="conversations"),
    path("widget/<slug:slug>/conversations/<int:number>/", views.conversation, name="conversation"),
    path("widget/<slug:slug>/confirmations/", views.request_confirmation, name="request_confirmation"),
    path("widget/<slug:slug>/confirmations/claim/", views.claim_confirmation, name="claim_confirmation"),
    path("widget/<slug:slug>/confirm/<uuid:confirmation_id>/", views.confirm_email, name="confirm_email"),
    path("widget/<slug:slug>/ideas/", ideas_tab.ideas, name="ideas"),
    path("widget/<slug:slug>/ideas/new/", ideas_tab.post_idea, name="idea_post"),
    path("widget/<slug:slug>/ideas/<int:idea_id>/vote/", ideas_tab.vote, name="idea_vote"),
    path("widget/<slug:slug>/ideas/<int:idea_id>/unvote/", ideas_tab.unvote, name="idea_unvote"),
    path("widget/<slug:slug>/survey/", survey_tab.survey, name="survey"),
]

"""The public ideas board: /board/<workspace-slug>/... (reading is public on a public board; writing needs the
portal's signed-in contact)."""

from django.urls import path

from deskloop.channels.portal import board_views as views

app_name = "ideaboard"

urlpatterns = [
    path("board/<slug:slug>/", views.board, name="board"),
    path("board/<slug:slug>/roadmap/", views.roadmap, name="roadmap"),
    path("board/<slug:slug>/changelog/", views.changelog, name="changelog"),
    path("board/<slug:slug>/new/", views.new_idea, name="new"),
    path("board/<slug:slug>/ideas/<int:idea_id>/", views.idea, name="idea"),
    path("board/<slug:slug>/ideas/<int:idea_id>/vote/", views.vote, name="vote"),
    path("board/<slug:slug>/ideas/<int:idea_id>/unvote/", views.unvote, name="unvote"),
    path("board/<slug:slug>/ideas/<int:idea_id>/comments/", views.comment, name="comment"),
    path("board/<slug:slug>/ideas/<int:idea_id>/follow/", views.follow, name="follow"),
    path("board/<slug:slug>/ideas/<int:idea_id>/unfollow/", views.unfollow, name="unfollow"),
]

"""The agents' ideas board, under /ideas/."""

from django.urls import path

from deskloop.ideas.views import actions, board

app_name = "ideas"

urlpatterns = [
    path("", board.board, name="board"),
    path("new/", board.idea_new, name="new"),
    path("<int:idea_id>/", board.idea_detail, name="detail"),
    path("<int:idea_id>/edit/", board.idea_edit, name="edit"),
    path("<int:idea_id>/status/", actions.idea_status, name="status"),
    path("<int:idea_id>/merge/", actions.idea_merge, name="merge"),
    path("<int:idea_id>/votes/", actions.idea_vote, name="vote"),
    path("<int:idea_id>/votes/<int:vote_id>/delete/", actions.vote_withdraw, name="vote_delete"),
    path("<int:idea_id>/comments/", actions.idea_comment, name="comment"),
    path("<int:idea_id>/follow/", actions.idea_subscription, name="follow"),
]

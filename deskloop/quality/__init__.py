"""Conversation quality reviews: a weighted scorecard per workspace, a weekly random sample per agent to review,
and the scores agents and managers see next to speed and CSAT."""

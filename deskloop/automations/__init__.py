"""Automation rules: event triggers and time rules with all/any conditions and actions, run with the rights of the
admin who saved them, inside their workspace, logged on the ticket's history, and unable to loop."""

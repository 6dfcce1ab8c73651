"""The manager's reports: volume, response and resolution times, SLA achievement, backlog, agent performance and
top problems, each number drilling down to the tickets behind it and exporting them as CSV."""

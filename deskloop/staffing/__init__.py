"""The staffing forecast: ticket volume per hour of the week forecast from history (with its error measured on
held-back weeks), and the agents needed per hour to meet the first-response target (Erlang C for live channels,
a throughput model for the email backlog), beside the roster of the business calendars."""

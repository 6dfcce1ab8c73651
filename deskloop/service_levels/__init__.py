"""SLA policies and the clocks they start on each ticket: first response, next response and resolution targets
counted in business time, paused in pending and on-hold statuses, warned about and breached by a sweep."""

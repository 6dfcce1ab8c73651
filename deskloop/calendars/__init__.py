"""Business calendars: the weekly opening hours (in a time zone, shifts may cross midnight) and holidays that SLA
clocks, agents' shifts and the staffing roster count time in."""

"""Who gets a new ticket: round-robin or least-loaded within a team, among agents who are available, on shift
and under their capacity; tickets of an agent who goes off shift are handed on."""

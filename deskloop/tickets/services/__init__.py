"""Every write to tickets goes through these functions (UI, API, channels, tasks and commands alike)."""

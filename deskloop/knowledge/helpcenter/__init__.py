"""The public help center: a workspace's published, public articles at /help/<workspace-slug>/ or on its own host
name, with search, feedback, a sitemap and the self-service funnel's "searched" step."""

"""Agent workspace HTML views, one module per screen."""

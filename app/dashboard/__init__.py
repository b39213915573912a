"""Dashboard: the organisation's overview of waste, trends and per-cluster pages."""

"""Waste over time: per-cluster current breakdowns, daily roll-ups and resolved findings."""

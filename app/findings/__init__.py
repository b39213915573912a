"""Findings: what scans found unused, with evidence and monthly cost."""

"""Clusters: the Kubernetes clusters an organisation scans."""

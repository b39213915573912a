"""Cloud accounts: connected AWS, GCP and Azure accounts and kubeconfig clusters."""

"""Accounts: users, organisations, memberships, sessions, invitations and sign-in."""

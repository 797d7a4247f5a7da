"""The debtor's own pages, reached through a personal link (no models beyond access tokens)."""

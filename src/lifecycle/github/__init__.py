"""GitHub: Actions plumbing, the REST client, environments and issues."""

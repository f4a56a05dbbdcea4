"""The MLflow registry: tracking, registered versions, aliases and their history."""

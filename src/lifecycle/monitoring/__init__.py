"""Monitoring: drift of production traffic against the training data, model cards, DORA metrics."""

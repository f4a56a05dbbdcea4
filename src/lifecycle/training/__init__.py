"""The model's definition, its fitting and hyper-parameter search."""

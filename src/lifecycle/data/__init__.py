"""The dataset: load, check against the settings, split, generate, version with DVC."""

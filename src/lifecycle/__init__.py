"""lifecycle: the machine-learning lifecycle as one CLI whose verbs are the steps."""

__version__ = "0.1.0"

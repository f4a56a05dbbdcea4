"""The drift gate (stage monitoring): recent traffic against the training data, per gates.drift.

It needs a window of prediction logs, so `lifecycle drift` reads it and judges it with
``lifecycle.monitoring.drift`` (feature, multivariate and prediction drift, missing values,
decay) and hands the report over.
"""

from __future__ import annotations

from lifecycle.gates.registry import Gate, measured

GATE = Gate("drift", "monitoring", "feature, prediction and multivariate drift; decay", measured)

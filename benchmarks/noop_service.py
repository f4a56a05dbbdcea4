"""The framework's ceiling: a BentoML service that answers /predict with a constant.

Same framework and settings as the model's service (one worker, the same traffic timeout, no
access log), the same JSON body parsed into keyword arguments, no model, no log:

    bentoml serve noop_service:Noop --working-dir benchmarks --port 3000
"""

from __future__ import annotations

from typing import Any

import bentoml
from pydantic import BaseModel, ConfigDict

ANSWER = {"prediction": 0, "probability": 0.5, "request_id": "-", "model_name": "noop",
          "model_version": "0"}  # fmt: skip


class Body(BaseModel):
    """Any JSON object, parsed (as the model's service parses its records) and not checked."""

    model_config = ConfigDict(extra="allow")


@bentoml.service(name="noop", traffic={"timeout": 60}, logging={"access": {"enabled": False}})
class Noop:
    @bentoml.api(input_spec=Body)
    async def predict(self) -> dict[str, Any]:
        return ANSWER

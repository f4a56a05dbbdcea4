"""The short summary that ends `lifecycle pipeline`: what was registered and where it lives."""

from __future__ import annotations

from lifecycle.settings import Settings


def render(settings: Settings) -> str:
    from mlflow import MlflowClient

    from lifecycle.registry import tracking

    uri = tracking.configure()
    client = MlflowClient()
    name = settings.model.name
    versions = client.search_model_versions(f"name='{name}'", order_by=["version_number DESC"])
    lines = ["Summary", "-------"]
    if not versions:
        lines.append(f"No version of '{name}' is registered yet.")
    else:
        latest = versions[0]
        model = client.get_registered_model(name)
        aliases = sorted(a for a, v in model.aliases.items() if str(v) == str(latest.version))
        run = client.get_run(str(latest.run_id))
        judged = {**settings.gates.model.thresholds, **settings.gates.quality.max_regression}
        metrics = ", ".join(
            f"{metric} {run.data.metrics[metric]:.3f}"
            for metric in judged
            if metric in run.data.metrics
        )
        lines += [
            f"Model:    {name} version {latest.version}"
            + (f" (aliases: {', '.join(aliases)})" if aliases else ""),
            f"Metrics:  {metrics or 'none of the gated metrics logged'}",
            f"Run:      {latest.run_id} in experiment '{name}'",
            f"Bento:    {latest.tags.get('bento.tag', 'not built')}",
        ]
    lines.append(f"Registry: {uri}")
    lines.append(f"Browse:   {_ui_command(uri)}")
    return "\n".join(lines)


def _ui_command(uri: str) -> str:
    if uri.startswith(("http://", "https://")):
        return f"open {uri}"
    return f"make ui  (or: .venv/bin/mlflow ui --backend-store-uri {uri})"

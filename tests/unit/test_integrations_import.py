"""Every integration imports, so a breaking upgrade of the locked set is caught at once."""

import importlib
import subprocess
import sys

import pytest

INTEGRATIONS = [
    "great_expectations",
    "deepchecks.tabular",
    "mlflow",
    "bentoml",
    "dvc.repo",
    "fairlearn.metrics",
    "sklearn.ensemble",
    "pandas",
    "pyarrow",
    "yaml",
    "pydantic",
]


@pytest.mark.parametrize("module", INTEGRATIONS)
def test_integration_imports(module):
    importlib.import_module(module)


def test_locust_imports_in_its_own_process():
    # locust monkey-patches the standard library through gevent on import, which breaks other
    # integrations in the same process; the load test therefore always runs it as a subprocess.
    code = "import locust, locust.stats; print(locust.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()

"""Where the prediction log goes: a local folder or a URL, checked before a Bento is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.deploy import hostctl, ssh
from lifecycle.errors import ConfigError
from lifecycle.serving.predlog import check_location, is_url, location
from lifecycle.settings import load_settings


def test_a_url_stays_a_url_and_a_folder_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert location("s3://bucket/predictions") == "s3://bucket/predictions"
    assert location("predictions") == str(tmp_path / "predictions")
    assert location(Path("a") / "b") == str(tmp_path / "a" / "b")
    assert not is_url("file:///srv/predictions") and is_url("gs://b/p")


@pytest.mark.parametrize(
    ("url", "named"), [("gs://bucket/p", "gcsfs"), ("nope://bucket/p", "nope")]
)
def test_a_url_without_its_package_is_a_config_error_naming_it(url, named):
    with pytest.raises(ConfigError) as error:
        check_location(url)
    message = str(error.value)
    assert named in message and "serving.prediction_log.path" in message
    assert "uv add" in message


def test_local_folders_and_s3_need_nothing_more():
    check_location("predictions")
    check_location("s3://bucket/predictions")


def ssh_params(params_file, path):
    dev = {"deploy": {"target": "ssh", "port": 8080}}
    return load_settings(
        params_file({"environments": {"dev": dev}, "serving": {"prediction_log": {"path": path}}})
    )


def test_an_ssh_host_serves_with_the_url_or_its_own_folder(params_file):
    config = ssh.layout(ssh_params(params_file, "s3://bucket/predictions"), "dev")
    assert hostctl.Layout(config).prediction_log == "s3://bucket/predictions"

    config = ssh.layout(ssh_params(params_file, "predictions"), "dev")
    layout = hostctl.Layout(config)
    assert layout.prediction_log == str(layout.path("predictions"))

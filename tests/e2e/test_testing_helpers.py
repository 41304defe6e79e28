"""The public testing helpers: ``running_headwater()`` and the pytest plugin's fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import boto3
import pytest

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e


def test_running_headwater_serves_boto3_clients_and_cleans_up():
    with running_headwater() as hw:
        assert hw.endpoint.startswith("http://127.0.0.1:")
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        assert url in sqs.list_queues()["QueueUrls"]
        data_dir = hw.data_dir
        assert (data_dir / "headwater.db").exists()
    # The temporary data directory goes with the server, and the port is closed.
    assert not data_dir.exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{hw.endpoint}/_headwater/health", timeout=2)


def test_environ_points_sdks_at_the_server():
    with running_headwater() as hw:
        env = hw.environ
        assert env["AWS_ENDPOINT_URL"] == hw.endpoint
        session = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )
        sqs = session.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL"])
        assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_given_data_dir_keeps_state_between_runs(tmp_path):
    with running_headwater(data_dir=tmp_path) as hw:
        hw.client("sqs").create_queue(QueueName="kept")
    with running_headwater(data_dir=tmp_path) as hw:
        assert hw.client("sqs").get_queue_url(QueueName="kept")["QueueUrl"].endswith("/kept")
    assert (tmp_path / "headwater.db").exists()


def test_clients_use_configured_credentials():
    with running_headwater(credentials={"AKIDTESTS": "tests-secret"}) as hw:
        assert (hw.access_key, hw.secret_key) == ("AKIDTESTS", "tests-secret")
        assert hw.environ["AWS_ACCESS_KEY_ID"] == "AKIDTESTS"
        hw.client("sqs").list_queues()


def test_fixtures_in_this_session(headwater_server, headwater_clients):
    assert isinstance(headwater_server, RunningHeadwater)
    sqs = headwater_clients("sqs")
    url = sqs.create_queue(QueueName="from-fixture")["QueueUrl"]
    assert url.startswith(headwater_server.endpoint)


PLUGIN_USER = '''
def test_first(headwater_server, headwater_clients):
    sqs = headwater_clients("sqs")
    sqs.create_queue(QueueName="shared")
    assert headwater_server.endpoint.startswith("http://127.0.0.1:")


def test_second_sees_the_same_session_server(headwater_clients):
    sqs = headwater_clients("sqs")
    assert sqs.get_queue_url(QueueName="shared")["QueueUrl"].endswith("/shared")
'''


def test_plugin_fixtures_are_available_to_users_suites(tmp_path: Path):
    # A user's suite needs no conftest: installing headwater registers the plugin.
    (tmp_path / "test_user.py").write_text(textwrap.dedent(PLUGIN_USER))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEADWATER_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

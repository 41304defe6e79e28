"""Helpers for users' own tests: a headwater server on a free loopback port, and clients for it.

    from headwater.testing import running_headwater

    with running_headwater() as hw:
        sqs = hw.client("sqs")
        sqs.create_queue(QueueName="jobs")

With pytest, the plugin (installed with headwater) provides the ``headwater_server`` fixture
(one server per test session) and ``headwater_clients`` (a factory of boto3 clients).
"""

from headwater.testing.server import RunningHeadwater, running_headwater

__all__ = ["RunningHeadwater", "running_headwater"]

"""Placeholder adapter proving the pipeline; replaced by the full SQS service."""

from __future__ import annotations

from typing import Any

from headwater.protocol.context import RequestContext
from headwater.services import ServiceEnv


class SqsAdapter:
    def __init__(self, env: ServiceEnv) -> None:
        self.env = env
        self.queues: dict[str, str] = {}

    def create_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        url = f"{ctx.endpoint}/{ctx.account_id}/{params['QueueName']}"
        self.queues[params["QueueName"]] = url
        return {"QueueUrl": url}

    def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"QueueUrls": list(self.queues.values())}

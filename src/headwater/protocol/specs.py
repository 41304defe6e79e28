"""The service catalogue: botocore's bundled models, loaded once and cached.

A ``ServiceSpec`` is everything the wire layer needs to know about one service: its model,
protocol, how requests name it (JSON target prefix, SigV4 signing name) and which error codes
an ``awsQueryCompatible`` service reports in the ``x-amzn-query-error`` header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

# Services headwater knows how to route to; serving them also needs an adapter.
KNOWN_SERVICES = (
    "sqs",
    "s3",
    "lambda",
    "stepfunctions",
    "events",
    "pipes",
    "kinesis",
    "cloudformation",
)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    model: ServiceModel
    protocol: str
    target_prefix: str | None
    signing_name: str
    query_compatible: bool
    _ops: dict[str, OperationModel] = field(default_factory=dict, compare=False, repr=False)

    def operation(self, name: str) -> OperationModel | None:
        op = self._ops.get(name)
        if op is None and name in self.model.operation_names:
            op = self.model.operation_model(name)
            self._ops[name] = op
        return op


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


# Shapes botocore's ``sdk-extras`` files change for its clients, put back as the service's own
# model has them, since headwater is the service.  AWS quirk: S3 models ``Expires`` as a
# string, storing any text and returning it as sent; botocore makes it a timestamp and reads
# the raw header as ``ExpiresString`` when it is not a date.
_SERVICE_SHAPES: dict[str, dict[str, dict[str, str]]] = {"s3": {"Expires": {"type": "string"}}}


@cache
def get_spec(name: str) -> ServiceSpec:
    data = _session().get_service_data(name)
    shapes = _SERVICE_SHAPES.get(name)
    if shapes:
        data = {**data, "shapes": {**data["shapes"], **shapes}}  # botocore's copy is cached
    model = ServiceModel(data, service_name=name)
    meta = model.metadata
    return ServiceSpec(
        name=name,
        model=model,
        protocol=meta["protocol"],
        target_prefix=meta.get("targetPrefix"),
        signing_name=meta.get("signingName") or meta.get("endpointPrefix") or name,
        query_compatible="awsQueryCompatible" in meta,
    )


@cache
def by_target_prefix() -> dict[str, ServiceSpec]:
    return {s.target_prefix: s for s in map(get_spec, KNOWN_SERVICES) if s.target_prefix}


@cache
def by_signing_name() -> dict[str, ServiceSpec]:
    return {s.signing_name: s for s in map(get_spec, KNOWN_SERVICES)}

"""Aliases: names for a version, optionally splitting traffic between two versions.

An alias points at one version (or ``$LATEST``) and may send a share of invocations to one
additional version (``RoutingConfig.AdditionalVersionWeights``, a weight between 0 and 1).
Which version an invocation runs is drawn per call with the injected ``chance`` function, and
the Invoke response names it in ``X-Amz-Executed-Version``.

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headwater.core.errors import validation_error
from headwater.core.ids import IdFactory
from headwater.services.lambda_ import errors, names
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.names import LATEST, FunctionRef


@dataclass(frozen=True, slots=True)
class Alias:
    name: str
    version: str
    description: str = ""
    weights: Mapping[str, float] = field(default_factory=dict)
    revision_id: str = ""

    def to_wire(self, function_arn: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AliasArn": f"{function_arn}:{self.name}",
            "Name": self.name,
            "FunctionVersion": self.version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.weights:
            out["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.weights)}
        return out


class Aliases:
    def __init__(self, functions: Functions, ids: IdFactory, chance: Callable[[], float]) -> None:
        self.functions = functions
        self.store = functions.store
        self.ids = ids
        self.chance = chance

    def get(self, ref: FunctionRef, name: str) -> Alias:
        self.functions.function(ref)
        row = self.store.alias(Functions.key(ref), name)
        if row is None:
            raise errors.alias_not_found(f"{ref.arn}:{name}")
        return Alias(name, row[0], row[1], row[2], row[3])

    def list(self, ref: FunctionRef, version: str | None = None) -> list[Alias]:
        self.functions.function(ref)
        found = [Alias(a, v, d, w, r) for a, v, d, w, r in self.store.aliases(Functions.key(ref))]
        return [a for a in found if version is None or a.version == version]

    def create(self, ref: FunctionRef, params: Mapping[str, Any]) -> Alias:
        self.functions.function(ref)
        name = params["Name"]
        if not names.ALIAS_NAME.match(name):
            raise errors.invalid_parameter(f"Invalid alias name: {name}")
        if self.store.alias(Functions.key(ref), name) is not None:
            raise errors.conflict(f"Alias already exists: {ref.arn}:{name}")
        alias = Alias(
            name,
            params["FunctionVersion"],
            params.get("Description") or "",
            _weights(params.get("RoutingConfig")),
            self.ids.uuid(),
        )
        self._check(ref, alias)
        self._save(ref, alias)
        return alias

    def update(self, ref: FunctionRef, name: str, params: Mapping[str, Any]) -> Alias:
        current = self.get(ref, name)
        wanted = params.get("RevisionId")
        if wanted and wanted != current.revision_id:
            raise errors.precondition_failed()
        alias = Alias(
            name,
            params.get("FunctionVersion") or current.version,
            params.get("Description", current.description),
            _weights(params["RoutingConfig"]) if "RoutingConfig" in params else current.weights,
            self.ids.uuid(),
        )
        self._check(ref, alias)
        self._save(ref, alias)
        return alias

    def delete(self, ref: FunctionRef, name: str) -> None:
        self.functions.function(ref)
        # AWS quirk: deleting an alias that does not exist succeeds (204).
        self.store.delete_alias(Functions.key(ref), name)

    def pick(self, ref: FunctionRef, name: str) -> str:
        """The version one invocation through alias ``name`` runs."""
        alias = self.get(ref, name)
        draw = self.chance()
        for version, weight in alias.weights.items():
            if draw < weight:
                return version
            draw -= weight
        return alias.version

    def _check(self, ref: FunctionRef, alias: Alias) -> None:
        if alias.version != LATEST and not names.is_version(alias.version):
            raise errors.invalid_parameter(f"Invalid function version: {alias.version}")
        self.functions.version(ref, alias.version)
        if not alias.weights:
            return
        if len(alias.weights) > 1:
            raise errors.invalid_parameter(
                "Number of items in AdditionalVersionWeights cannot be greater than 1"
            )
        if alias.version == LATEST:
            raise errors.invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        for version, weight in alias.weights.items():
            if not 0.0 <= weight < 1.0:
                # AWS quirk: the model allows 1.0, the service refuses it (with the model's
                # wording, which says the opposite).
                raise validation_error(
                    f"1 validation error detected: Value '{{{version}={weight}}}' at "
                    "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                    "value must satisfy constraint: [Member must have value less than or equal "
                    "to 1.0, Member must have value greater than or equal to 0.0, Member must "
                    "not be null]"
                )
            if version == alias.version:
                raise errors.invalid_parameter(
                    f"Invalid function version {version}. Function version {version} is "
                    "already included in routing configuration."
                )
            if not names.is_version(version):
                raise validation_error(
                    f"1 validation error detected: Value '{{{version}={weight}}}' at "
                    "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                    "keys must satisfy constraint: [Member must have length less than or equal "
                    "to 1024, Member must have length greater than or equal to 1, Member must "
                    "satisfy regular expression pattern: [0-9]+, Member must not be null]"
                )
            self.functions.version(ref, version)

    def _save(self, ref: FunctionRef, alias: Alias) -> None:
        self.store.put_alias(
            Functions.key(ref),
            alias.name,
            alias.version,
            alias.description,
            dict(alias.weights),
            alias.revision_id,
        )


def _weights(routing: Mapping[str, Any] | None) -> dict[str, float]:
    if not routing:
        return {}
    weights = routing.get("AdditionalVersionWeights") or {}
    return {str(k): float(v) for k, v in weights.items()}

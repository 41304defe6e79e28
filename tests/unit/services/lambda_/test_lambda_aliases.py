"""Aliases: validation, weighted routing, revision checks."""

from __future__ import annotations

import pytest
from lambda_helpers import create_params, package, ref

from headwater.core.errors import ServiceError
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.functions import Functions


@pytest.fixture
def two_versions(functions: Functions) -> None:
    functions.create(ref(), create_params())
    functions.publish(ref(), {})
    functions.update_code(ref(), {"ZipFile": package("x = 2\n")})
    functions.publish(ref(), {})


@pytest.mark.usefixtures("two_versions")
def test_weighted_routing_follows_the_draw(aliases: Aliases, draws: list[float]) -> None:
    aliases.create(
        ref(),
        {
            "Name": "live",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.25}},
        },
    )
    draws.extend([0.1, 0.3, 0.24, 0.99])
    assert [aliases.pick(ref(), "live") for _ in range(4)] == ["2", "1", "2", "1"]


@pytest.mark.usefixtures("two_versions")
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"FunctionVersion": "9"}, "Function not found"),
        (
            {
                "FunctionVersion": "$LATEST",
                "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}},
            },
            "$LATEST is not supported",
        ),
        (
            {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}},
            "already included in routing configuration",
        ),
        (
            {
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5, "3": 0.1}},
            },
            "cannot be greater than 1",
        ),
    ],
)
def test_invalid_aliases(aliases: Aliases, params: dict[str, object], message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        aliases.create(ref(), {"Name": "a", **params})
    assert message in caught.value.message


@pytest.mark.usefixtures("two_versions")
def test_update_and_revision(aliases: Aliases) -> None:
    created = aliases.create(ref(), {"Name": "live", "FunctionVersion": "1", "Description": "d"})
    with pytest.raises(ServiceError) as caught:
        aliases.update(ref(), "live", {"RevisionId": "stale"})
    assert caught.value.code == "PreconditionFailedException"
    updated = aliases.update(
        ref(), "live", {"FunctionVersion": "2", "RevisionId": created.revision_id}
    )
    assert (updated.version, updated.description) == ("2", "d")
    assert [a.name for a in aliases.list(ref(), "2")] == ["live"]
    assert aliases.list(ref(), "1") == []


@pytest.mark.usefixtures("two_versions")
def test_missing_alias_message(aliases: Aliases) -> None:
    with pytest.raises(ServiceError) as caught:
        aliases.get(ref(), "nope")
    assert caught.value.message == (
        "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:fn:nope"
    )


@pytest.mark.usefixtures("two_versions")
def test_a_version_behind_an_alias_cannot_be_deleted(
    aliases: Aliases, functions: Functions
) -> None:
    aliases.create(ref(), {"Name": "live", "FunctionVersion": "2"})
    with pytest.raises(ServiceError) as caught:
        functions.delete(ref(qualifier="2"))
    assert caught.value.message.endswith("the following aliases reference it: [live]")


@pytest.mark.usefixtures("two_versions")
@pytest.mark.parametrize("weights", [{"2": 1.0}, {"2": -0.1}, {"$LATEST": 0.5}])
def test_weights_are_checked_like_the_model_says(
    aliases: Aliases, weights: dict[str, float]
) -> None:
    with pytest.raises(ServiceError) as caught:
        aliases.create(
            ref(),
            {
                "Name": "a",
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": weights},
            },
        )
    assert caught.value.code == "ValidationException"
    assert "routingConfig.additionalVersionWeights" in caught.value.message

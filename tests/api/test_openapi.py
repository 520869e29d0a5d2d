"""The OpenAPI document in the repository and the server's routes agree."""

from __future__ import annotations

import json
from pathlib import Path

import proxy.http
from proxy.http.app import ROUTES
from tests.api.conftest import Live

DOC = json.loads((Path(proxy.http.__file__).parent / "openapi.json").read_text())


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    served = {(method.lower(), path) for method, path, _ in ROUTES}
    documented = {(method, path) for path, ops in DOC["paths"].items() for method in ops}
    assert served == documented


def test_documented_schemas_name_the_contract_fields() -> None:
    event = DOC["components"]["schemas"]["Event"]["properties"]
    assert {"id", "title", "start", "end", "show_as", "sensitivity", "recurrence",
            "redacted", "can_edit", "join_url", "conference"} <= set(event)


async def test_answers_match_the_documented_shapes(world: Live) -> None:
    from tests.api.helpers import WINDOW, seed

    seed(world, title="Planning")
    schemas = DOC["components"]["schemas"]
    _, body, _ = await world.call("exec", "GET", f"/v1/users/me/events?{WINDOW}")
    for event in body["events"]:
        assert set(event) == set(schemas["Event"]["properties"])
    _, body, _ = await world.call("exec", "GET", "/v1/me/integrations")
    for integration in body["integrations"]:
        assert set(integration) == set(schemas["Integration"]["properties"])
    _, body, _ = await world.call("exec", "GET", "/v1/nope")
    assert set(body) == set(schemas["Error"]["properties"])

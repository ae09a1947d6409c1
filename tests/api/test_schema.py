"""The OpenAPI schema tells the truth: schemathesis fuzzes every operation with an admin key.

A bounded number of generated requests per operation (on the embedded deployment); none may
get a server error, a status the schema does not list, or a body, header or content type that
breaks the schema. Revoking keys is left out: a fuzzer revoking its own key would test nothing
after that.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from speechqa_service.workers.worker import build_worker

from speechqa.apikeys import Scope
from speechqa_service.app import create_app
from tests.support import key_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 15


@pytest.mark.parametrize("backend", ["embedded"])  # fuzzed once, on the default deployment
def test_the_api_keeps_to_its_schema(settings: Any, backend: str) -> None:
    headers = key_for(settings, Scope.ADMIN)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings)).exclude(
        method="DELETE", path="/v1/apikeys/{key_id}"
    )
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15
    worker = build_worker(settings)  # registered, so /readyz can answer 200
    worker.register_birth()
    try:
        _fuzz(operations, headers)
    finally:
        worker.register_death()


def _fuzz(operations: list[Any], headers: dict[str, str]) -> None:
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()


# What the code refuses, and the schema now says it refuses (schemathesis reported each as
# "valid request rejected", or a wrong Allow header): (method, path, request keywords, where
# the schema says so).
REFUSED_AS_DOCUMENTED: list[tuple[str, str, dict[str, Any], str]] = [
    ("GET", "/v1/calls?from=", {}, "parameter from: minLength 1"),
    ("GET", "/v1/calls?to=", {}, "parameter to: minLength 1"),
    ("GET", "/v1/leaderboard?from=", {}, "parameter from: minLength 1"),
    ("GET", "/v1/leaderboard?to=", {}, "parameter to: minLength 1"),
    ("POST", "/v1/apikeys", {"json": {"scopes": []}}, "ApiKeyCreate.scopes: minItems 1"),
    ("POST", "/v1/calibrations", {"json": {"name": "n", "calls": ["c"], "reviewers": ["a", "a"]}},
     "CalibrationCreate.reviewers: uniqueItems"),
    ("POST", "/v1/rulesets/validate", {"json": {}}, "JSON body: required source"),
    ("POST", "/v1/rulesets/validate", {"json": {"source": ""}}, "source: minLength 1"),
]  # fmt: skip


@pytest.mark.parametrize("backend", ["embedded"])
@pytest.mark.parametrize(("method", "path", "kw", "documented"), REFUSED_AS_DOCUMENTED)
def test_what_the_code_refuses_the_schema_refuses(client, admin, method, path, kw, documented):
    assert client.request(method, path, headers=admin, **kw).status_code == 422
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    if documented.startswith("parameter"):
        name = documented.split()[1].rstrip(":")
        route = spec["paths"][path.split("?")[0]]["get"]
        [param] = [p for p in route["parameters"] if p["name"] == name]
        assert {"type": "string", "minLength": 1} in param["schema"]["anyOf"]
    elif documented.startswith("ApiKeyCreate"):
        assert schemas["ApiKeyCreate"]["properties"]["scopes"]["minItems"] == 1
    elif documented.startswith("CalibrationCreate"):
        assert schemas["CalibrationCreate"]["properties"]["reviewers"]["uniqueItems"] is True
    else:
        body = spec["paths"]["/v1/rulesets/validate"]["post"]["requestBody"]["content"]
        assert body["application/json"]["schema"]["required"] == ["source"]
        assert body["application/json"]["schema"]["properties"]["source"]["minLength"] == 1


@pytest.mark.parametrize("backend", ["embedded"])
def test_the_allow_header_names_the_methods_of_the_path_asked(client, admin):
    """/v1/rulesets/validate is its own path, not also /v1/rulesets/{name}."""
    r = client.options("/v1/rulesets/validate", headers=admin)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = client.delete("/v1/rulesets/billing", headers=admin)
    assert r.status_code == 405 and r.headers["allow"] == "GET, PUT"

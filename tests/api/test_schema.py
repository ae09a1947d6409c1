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

from api.app import create_app
from speechqa.apikeys import Scope
from tests.support import key_for
from workers.worker import build_worker

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

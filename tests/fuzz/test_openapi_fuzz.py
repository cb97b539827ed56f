"""Property-based fuzzing of every operation in ``/openapi.json`` (schemathesis) against a live
gateway over the test engine, with valid and invalid inputs: no response is a 5xx, every 4xx
is the API's error shape, and every response matches the schema the document gives it.

Bounded in time: ``FUZZ_EXAMPLES`` examples per operation and generation mode, no shrinking
(about two minutes on two cores); ``TOKENFACTORY_FUZZ_EXAMPLES`` raises it for a longer run.
Schemathesis' own pytest plugin is not used (it reads a pytest private attribute that pytest
9 removed): the operations are walked here, each with a Hypothesis strategy of its cases.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fakes import FakeEngine
from tests.live_server import start_live_server

pytestmark = pytest.mark.slow
# Hypothesis' caches go under test-artifacts/ (ignored), not into the checkout
set_hypothesis_home_dir(Path(__file__).parents[2] / "test-artifacts" / "hypothesis")

FUZZ_EXAMPLES = int(os.environ.get("TOKENFACTORY_FUZZ_EXAMPLES", "6"))
ERROR_FIELDS = {"message", "type", "code"}
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory: pytest.TempPathFactory):
    handle = start_live_server(FakeEngine(), tmp_path_factory.mktemp("tf-fuzz-home"))
    _, admin_key = handle.core.keys.create_key("default", name="fuzz-admin", is_admin=True)
    handle.admin_key = admin_key
    yield handle
    handle.stop()


STATUSES: list[int] = []  # every status seen, so the test shows it exercised the API


def no_server_error(ctx, response, case) -> None:
    STATUSES.append(response.status_code)
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"


def error_shape(ctx, response, case) -> None:
    """Every 4xx is ``{"error": {"message", "type", "code"}}`` as JSON."""
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), response.text[:300]
    assert set(body["error"]) >= ERROR_FIELDS, body
    assert body["error"]["message"], body


CHECKS = [no_server_error, error_shape, response_schema_conformance]


def fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        derandomize=True,
        database=None,
    )
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    run()


def test_no_operation_answers_a_5xx_or_leaves_its_schema(live_gateway):
    schema = schemathesis.openapi.from_url(f"{live_gateway.url}/openapi.json")
    headers = {"Authorization": f"Bearer {live_gateway.admin_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # every router is in the document
    failures = []
    for operation in operations:
        # only a body or a query can be made invalid (any string is a valid path segment)
        negatable = bool(operation.body) or bool(operation.query)
        for mode in MODES if negatable else MODES[:1]:
            try:
                fuzz(operation, mode, headers)
            except Exception as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert len(STATUSES) >= min(FUZZ_EXAMPLES, 2) * len(operations)
    assert any(200 <= s < 300 for s in STATUSES) and STATUSES.count(400) > len(operations)

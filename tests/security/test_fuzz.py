"""Rule: no input makes the hub fail. schemathesis (property-based OpenAPI fuzzing) calls every
published operation as every kind of caller, with valid and invalid data, and checks each answer:
no server error, and the status code, content type and body are the ones the schema publishes.

Examples per operation and caller: ``LIENTHONG_FUZZ_EXAMPLES`` (default 6): enough to reach each
route's body reader and validation. A caller is fuzzed on the operations its rule admits: the guard
refuses the others before reading anything (the access matrix and the body reader's tests prove that
for every route, caller and broken body), so fuzzing them would only test the refusal again.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from hub.edge.rules import CALLERS, all_rules
from tests.security.conftest import Edge

RULES = all_rules()
EXAMPLES = int(os.environ.get("LIENTHONG_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations that would end the caller's own session or credentials midway (the fuzz would go on
# unauthenticated, proving less); each is covered by its own tests.
SKIP = {("POST", "/v1/auth/logout"), ("POST", "/v1/admin/review:disable"), ("POST", "/v1/admin/keys/{key_id}:revoke"),
        ("PATCH", "/v1/admin/accounts/{username}"), ("POST", "/v1/admin/keys/{key_id}:rotate"),
        ("PATCH", "/v1/admin/keys/{key_id}"), ("PATCH", "/v1/admin/partners/{code}")}
# Operations and modes for which Hypothesis could make no case (e.g. nothing to negate in a path of
# plain strings). Generation depends on the operation alone, never the caller, and is derandomized:
# found for one caller, it is so for every caller, so this process does not search again (~1.5 s each).
NOTHING_TO_GENERATE: set[tuple[str, str, str]] = set()


def fuzz(edge: Edge, caller: str, mode: GenerationMode) -> list[str]:
    """Every operation, ``EXAMPLES`` cases each; the failures found, as text."""
    schema = schemathesis.openapi.from_url(f"{edge.url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIP or (key in RULES and RULES[key].cell(caller) == "no") or (*key, mode.value) in NOTHING_TO_GENERATE:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=edge.url, headers=edge.headers[caller], checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            NOTHING_TO_GENERATE.add((*key, mode.value))
            continue  # nothing to break: the operation takes no parameters or body (negative mode)
        except Exception as failure:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path} as {caller} ({mode.value}): "
                            f"{str(failure)[:600]}")
    return failures


@pytest.mark.parametrize("caller", CALLERS)
def test_no_input_makes_the_hub_fail_or_answer_outside_its_schema(edge: Edge, caller: str) -> None:
    failures = fuzz(edge, caller, GenerationMode.POSITIVE) + fuzz(edge, caller, GenerationMode.NEGATIVE)
    assert not failures, "\n\n".join(failures)

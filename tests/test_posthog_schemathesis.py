"""Schemathesis with PostHog's own pinned document (not mockhog's) as the schema, against mockhog.

Every operation the document describes, one generated request each (bounded: the document has 772
operations and its query-node bodies are large): no 5xx and no "Endpoint not found", and every
response body validates against the document mockhog serves (/api/schema/: PostHog's with the
overlay applied, which differs from PostHog's only where an overlay entry gives the reason;
tests/test_overlay.py holds that). Path parameters name records that exist (else most requests
would stop at a 404); bodies and queries are Schemathesis' own. The document is rebuilt from the
committed import (spec_documents.document_from_contract), so the test is the same in a user's
clone; tools/check_pinned.py holds the import to PostHog's file where it is beside the repo.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from spec_documents import document_from_contract
from spec_requests import path_values

from mockhog import Backend, create_app
from mockhog.spec.checks import DOCUMENT, absolute

backend = Backend(seed=0)
schema = schemathesis.openapi.from_dict(document_from_contract())
# The coverage phase would enumerate boundary cases of every query-node body at collection
# (minutes for this document); one generated example per operation is the bound here.
schema.config.phases.coverage.enabled = False
schema.app = create_app(backend=backend)
DRAFT = "https://json-schema.org/draft/2020-12/schema"
AUTH = {"Authorization": f"Bearer {backend.api_key}"}
SERVED = backend.openapi()
SERVED_OPERATIONS = {
    entry["operationId"]: entry for item in SERVED["paths"].values() for entry in item.values()
}


CALLED: list[str] = []  # the operations requested, and those whose JSON answer was validated
VALIDATED: list[str] = []


# One registry holds the served components, under the name mockhog's own checks point at: a
# validator per (operation, status) with its own copy of them cost about 9 MB each (7 GB in all).
SERVED_REGISTRY = jsonschema_rs.Registry([(DOCUMENT, {"$schema": DRAFT, "components": SERVED["components"]})])


@cache
def served_validator(operation_id: str, status: str) -> Any:
    """The served document's schema of one JSON response, compiled (None where it states none)."""
    content = SERVED_OPERATIONS[operation_id]["responses"].get(status, {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    return jsonschema_rs.validator_for(
        {"$schema": DRAFT, **absolute(schema)},
        registry=SERVED_REGISTRY,
        validate_formats=True,
    )


@schema.parametrize()
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_posthog_document(case):
    backend.reset()
    op = backend.spec.by_id.get(case.operation.definition.raw["operationId"])
    values = path_values(backend, op) if op is not None else None
    if values:
        case.path_parameters = {k: values.get(k, v) for k, v in case.path_parameters.items()}
    response = case.call(headers=AUTH)
    assert response.status_code < 500, response.text[:500]
    assert "Endpoint not found." not in response.text, (case.method, case.formatted_path)
    operation_id = case.operation.definition.raw["operationId"]
    CALLED.append(operation_id)
    validator = served_validator(operation_id, str(response.status_code))
    media = [
        value
        for name, values in response.headers.items()
        if name.lower() == "content-type"
        for value in values
    ]
    # (an empty body is no JSON document: remote_config's 404 is one, as PostHog's HttpResponse)
    if validator is not None and media and media[0].startswith("application/json") and response.content:
        VALIDATED.append(operation_id)
        errors = [error.message for error in validator.iter_errors(response.json())]
        assert errors == [], (operation_id, response.status_code, errors[:3])


def test_the_answers_were_validated_against_the_served_document():
    """Runs after the generated requests (pytest keeps the file's order): most answers are JSON
    bodies the served document states a schema for, and each was validated."""
    if len(CALLED) < 100:  # deselected, or most requests ran in other xdist workers
        pytest.skip(f"only {len(CALLED)} generated requests ran in this process")
    assert len(VALIDATED) >= len(CALLED) * 0.8, (len(VALIDATED), len(CALLED))

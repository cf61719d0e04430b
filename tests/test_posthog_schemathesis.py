"""Schemathesis with PostHog's own pinned document (not mockhog's) as the schema, against mockhog.

Every operation the document describes, one generated request each (bounded: the document has 772
operations and its query-node bodies are large): no 5xx and no "Endpoint not found". Path
parameters name records that exist (else most requests would stop at a 404); bodies and queries
are Schemathesis' own. The pinned document is read from ../shared where it is beside the repo;
a clone rebuilds the same document from the committed import.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from spec_documents import document_from_contract
from spec_requests import PINNED, path_values

from mockhog import Backend, create_app


def _posthog_document() -> dict[str, Any]:
    if PINNED.exists():
        with gzip.open(PINNED) as handle:
            return json.load(handle)
    return document_from_contract()


backend = Backend(seed=0)
schema = schemathesis.openapi.from_dict(_posthog_document())
# The coverage phase would enumerate boundary cases of every query-node body at collection
# (minutes for this document); one generated example per operation is the bound here.
schema.config.phases.coverage.enabled = False
schema.app = create_app(backend=backend)
AUTH = {"Authorization": f"Bearer {backend.api_key}"}


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

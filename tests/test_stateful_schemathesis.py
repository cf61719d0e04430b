"""Schemathesis' stateful run: it follows the document's links from each create to the retrieve,
update and delete of what it created, checking every answer."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from mockhog import Backend, create_app

backend = Backend(seed=0)
schema = schemathesis.openapi.from_wsgi("/api/schema/", create_app(backend=backend)).include(
    # the verified operations; the generic ones run against PostHog's own document (test_conformance)
    func=lambda ctx: ctx.operation.definition.raw.get("x-mockhog-tier") == "verified"
)


@schema.auth()
class PersonalApiKey:
    """The key as Schemathesis' auth, so its check that a bad key is refused can take it away."""

    def get(self, case, context):
        return backend.api_key

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class Workflow(schema.as_state_machine()):
    def setup(self) -> None:
        backend.reset_all()

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        # Every check but "a schema-valid request is accepted": resource rules rightly refuse some
        # schema-valid bodies (credentials a source type needs, a label already taken); their own
        # tests pin those answers.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])


TestWorkflow = Workflow.TestCase
TestWorkflow.settings = settings(
    max_examples=25,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

"""The OpenAPI document of the LiveLike service is true: schemathesis checks it.

Every operation is called with generated data (valid and invalid) and each
answer must be one the document lists, with a body of the documented shape, and
never a 500.  Fault rules and the long-polling requests query are left out: one
changes what every other operation answers, the other waits by design.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.livelike_helpers import AUTH, make_livelike

LIVELIKE = make_livelike()
schema = schemathesis.openapi.from_wsgi("/_emulator/openapi.json", LIVELIKE.app)
# resetStack is served only inside a Stack (tests/test_schemathesis_services.py).
skipped = schema.exclude(
    operation_id=["addFault", "clearFaults", "receivedRequests", "resetStack"]
)


@skipped.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case):
    # Reads ignore query parameters they do not know, as LiveLike's API does, so
    # "unexpected parameter" negatives are not errors there; bodies stay strict.
    lenient = [negative_data_rejection] if case.method == "GET" else []
    case.call_and_validate(headers=AUTH, excluded_checks=lenient)

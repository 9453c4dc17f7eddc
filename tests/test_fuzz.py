"""A fuzz run over the API (issue 9.8): schemathesis reads the app's own OpenAPI schema and, for every route,
generates requests that fit it (positive) and requests that break it (negative), sent without a token and
with an admin's, in process (ASGI) on a private copy of the sample database. No answer may be a 5xx, and none
may break the schema it answers under (a documented status has a body of its schema and its content type).

The run is fixed (one seed, no example database) and bounded (EXAMPLES per route, mode and token), so it
finds the same things on every machine and takes well under a minute on two cores."""

import pytest
import schemathesis
from conftest import private_copy
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api.app import create_app
from nongthon.accounts import add_user

SEED = 2021  # the year of Phú Yên's resolution
EXAMPLES = 10  # per route, mode and token: 13 routes × 2 modes × 2 tokens × 10 requests at most
HEAVY = {"GET /map": 4, "GET /api/projections": 4, "GET /api/progress": 5}  # a page or a computation per new parameter
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
RUNS = 50  # projections fuzzed with at most this many runs: the fuzz looks for errors, not for cost (see 9.3's tests)


@pytest.fixture(scope="module")
def api(sample_db, tmp_path_factory, province):
    """The app on a private copy of the sample, its schema as schemathesis loads it, and an admin's token."""
    copy = private_copy(sample_db, tmp_path_factory.mktemp("fuzz"))
    store = next(copy)
    token = add_user(store, province.registry, "Quản trị", "admin")
    app = create_app(store.engine.url.database)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app), token
    finally:
        jobs = getattr(app.state, "jobs", None)
        if jobs is not None:
            jobs.close()
        next(copy, None)


def fuzz(operation, mode: GenerationMode, headers: dict) -> list[str]:  # noqa: ANN001 - an APIOperation
    """Every failure of one route in one mode, one line each: the answer, the check it failed, a curl to reproduce."""
    found: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=HEAVY.get(operation.label, EXAMPLES),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:  # noqa: ANN001 - a schemathesis Case
        if isinstance(case.query, dict) and isinstance(case.query.get("runs"), int) and case.query["runs"] > RUNS:
            case.query["runs"] = RUNS
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the app raised (the test client re-raises what a server would answer with 500)
            found.append(f"{operation.label} [{mode.value}] → 500 {type(exc).__name__}: {exc} — {case.as_curl_command()}")
            return
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseExceptionGroup as group:  # schemathesis's FailureGroup: one failure per check that failed
            where = f"{operation.label} [{mode.value}] → {response.status_code} {response.text[:120]!r}"
            found.extend(f"{where}: {getattr(f, 'title', f)} — {case.as_curl_command()}" for f in group.exceptions)
        except Exception as exc:  # a body that cannot even be read as its documented type (UnicodeDecodeError, …)
            found.append(
                f"{operation.label} [{mode.value}] → {response.status_code}: {type(exc).__name__}: {exc} — {case.as_curl_command()}"
            )

    try:
        run()
    except Unsatisfiable:
        pass  # nothing in this mode can break the route's schema (a path with one free string): nothing to send
    return found


@pytest.mark.parametrize("who", ["no token", "admin"])
def test_no_route_answers_5xx_or_breaks_its_schema(api, who):
    schema, token = api
    headers = {"Authorization": f"Bearer {token}"} if who == "admin" else {}
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    # every route of the app is in its schema, so every route is fuzzed
    routes = {f"{m} {r.path}" for r in schema.app.routes if isinstance(r, APIRoute) and r.include_in_schema for m in r.methods}
    assert labels == routes and {"PUT /api/communes/{code}/assessments/{year}", "POST /api/imports", "GET /map"} <= labels
    failures = [f for op in operations for mode in GenerationMode for f in fuzz(op, mode, headers)]
    assert not failures, "\n".join(failures[:20])

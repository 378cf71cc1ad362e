"""schemathesis over the service's own OpenAPI schema, on SQLite and PostgreSQL: no operation
answers 5xx."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, reject, settings

from bot.app import create_app
from bot.settings import Settings
from tests.fakes.server import serve


def test_no_operation_answers_5xx(database_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=database_url, files_dir=tmp_path / "files",
                              scheduler_enabled=False, flood_limit_per_minute=1_000_000))
    with serve(app) as url:
        _fuzz(url)


def _fuzz(url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/api/chat", "/api/indicators", "/healthz"} <= paths
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            try:
                response = case.call(base_url=url)
            except (ValueError, UnicodeError):  # over real HTTP this is the client refusing to build the URL
                reject()
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} → {response.status_code}")

        run()
    assert failures == []
    assert len(calls) > 5 * len(operations)  # every operation was really exercised

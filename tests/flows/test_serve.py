"""`switchover serve` against the test server: every deployment, as operators will see it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.responses import DeploymentResponse
from prefect.exceptions import ObjectNotFound

from flows.deployments import SPECS

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

SWITCHOVER = Path(sys.executable).with_name("switchover")
EXPECTED = {
    "reminder-campaign": ("0 9 * * *", {"as_of", "dry_run", "step", "batch_size"}),
    "verification-dispatch": ("* * * * *", {"as_of", "dry_run", "batch_size", "max_links"}),
    "outbox-sender": ("*/2 * * * *", {"as_of", "dry_run", "limit"}),
    "unregistered-followup": ("0 10 * * *", {"as_of", "dry_run", "step", "batch_size"}),
    "dashboard-refresh": ("* * * * *", {"as_of"}),
    "helpdesk-recovery": (
        None,
        {"login_id", "person_name", "email", "agent", "role", "dry_run", "as_of"},
    ),
    "helpdesk-ingest": (
        "*/5 * * * *",
        {"as_of", "dry_run", "acknowledge", "limit", "batch_size"},
    ),
    "login-migration": (
        None,
        {
            "as_of",
            "dry_run",
            "canary",
            "canary_share",
            "wave_size",
            "waves_by",
            "batch_size",
            "max_failure_rate",
            "only_wave",
            "concurrent_batches",
        },
    ),
    "migration-rollback": (None, {"wave", "reason", "dry_run", "force", "batch_size"}),
}


@pytest.fixture
def served(
    prefect_server: str, flow_env: dict[str, str], tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {
        "PREFECT_API_URL": prefect_server,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(SWITCHOVER), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def wait_for_deployments(
    client: SyncPrefectClient, process: subprocess.Popen[bytes], log: Path
) -> dict[str, DeploymentResponse]:
    deadline = time.monotonic() + 120
    found: dict[str, DeploymentResponse] = {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"switchover serve exited ({process.returncode}):\n{log.read_text()}")
        for spec in SPECS:
            if spec.name not in found:
                with contextlib.suppress(ObjectNotFound):
                    found[spec.name] = client.read_deployment_by_name(
                        f"{spec.flow.name}/{spec.name}"
                    )
        if len(found) == len(SPECS):
            return found
        time.sleep(1)
    pytest.fail(f"deployments missing after 120 s: {sorted(found)}\n{log.read_text()}")


def wait_for_run(client: SyncPrefectClient, run_id: UUID, log: Path) -> Any:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run = client.read_flow_run(run_id)
        if run.state is not None and run.state.is_final():
            return run
        time.sleep(1)
    pytest.fail(f"the run did not finish in 240 s:\n{log.read_text()}")


def test_serve_registers_every_deployment_and_runs_one_on_request(
    served: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with get_client(sync_client=True) as client:
        deployments = wait_for_deployments(client, served, log)
        assert set(deployments) == set(EXPECTED)
        for name, (cron, parameters) in EXPECTED.items():
            deployment = deployments[name]
            assert deployment.description and len(deployment.description) > 80
            assert "switchover" in deployment.tags
            schema = deployment.parameter_openapi_schema or {}
            properties = schema["properties"]
            assert set(properties) == parameters
            for parameter, field in properties.items():
                assert field.get("description"), f"{name}.{parameter} has no description"
            if cron is None:
                assert deployment.schedules == []
                continue
            [schedule] = deployment.schedules
            assert schedule.schedule.cron == cron  # type: ignore[union-attr]
            assert schedule.schedule.timezone == "Asia/Tokyo"  # type: ignore[union-attr]
            assert schedule.active
            assert deployment.global_concurrency_limit is not None
            assert deployment.global_concurrency_limit.limit == 1
        # Enumerations are dropdowns in the UI's form.
        recovery = deployments["helpdesk-recovery"].parameter_openapi_schema or {}
        assert recovery["properties"]["role"].get("default") == "administrator"
        definitions = recovery["definitions"]
        assert definitions["Role"]["enum"] == ["administrator", "normal", "visitor"]

        as_of = dt.datetime(2025, 9, 7, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
        run = client.create_flow_run_from_deployment(
            deployments["reminder-campaign"].id,
            parameters={"as_of": as_of.isoformat(), "dry_run": True},
        )
        finished = wait_for_run(client, run.id, log)
        assert finished.state.is_completed(), f"{finished.state}\n{log.read_text()}"
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
        [report] = [a for a in artifacts if a.key == "reminder-campaign"]
        assert "## Reminder campaign — 2025-09-07 09:00 (JST)" in str(report.data)

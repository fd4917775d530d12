"""Prefect's scheduler creates the runs of a cron schedule once `flows.prefect_compat` is applied.

Prefect's server models run in a subprocess on their own temporary database, exactly as the
scheduler service calls them; nothing leaks into the test session's Prefect settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from flows.prefect_compat import patch
    fixed = patch()
    print("fixed", ",".join(fixed))
    print("again", ",".join(patch()))
    from prefect.server import models, schemas
    from prefect.server.database import provide_database_interface
    from prefect.server.schemas.schedules import CronSchedule

    async def main():
        db = provide_database_interface()
        await db.create_db()
        async with db.session_context(begin_transaction=True) as session:
            flow = await models.flows.create_flow(session=session, flow=schemas.core.Flow(name="f"))
            deployment = await models.deployments.create_deployment(
                session=session, deployment=schemas.core.Deployment(name="d", flow_id=flow.id)
            )
            await models.deployments.create_deployment_schedules(
                session=session,
                deployment_id=deployment.id,
                schedules=[
                    schemas.actions.DeploymentScheduleCreate(
                        schedule=CronSchedule(cron="0 9 * * *", timezone="Asia/Tokyo"),
                        active=True,
                    )
                ],
            )
        async with db.session_context(begin_transaction=True) as session:
            ids = await models.deployments.schedule_runs(
                session=session, deployment_id=deployment.id
            )
        print("scheduled", len(ids))

    asyncio.run(main())
    """
)


def test_the_scheduler_inserts_scheduled_runs(tmp_path: Path) -> None:
    env = os.environ | {
        "PREFECT_HOME": str(tmp_path / "home"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/prefect.db",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert int(lines["scheduled"]) >= 1
    assert lines.get("again", "") == ""  # applying it twice changes nothing more

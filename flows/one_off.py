"""Runs scheduled once, at an explicit moment: the login migration at the switch.

Prefect's scheduler plans a deployment's schedule only about 100 days ahead, so a cron or rrule
schedule for 28 September would produce no run until late June — and nothing would show in the
UI before then. Instead the run is created directly, in the Scheduled state at the switch
instant (the settings' switch date at 00:00 in their time zone), when the deployments are
registered (`switchover serve` and `switchover deploy`). It is idempotent: registering again
finds the same run (by its idempotency key) rather than making a second one, and if the switch
date in the settings has moved, the run made earlier for the old date is deleted (it never
started) and one is made for the new date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments.runner import RunnerDeployment
from prefect.states import Scheduled

from domain.clock import Calendar, SystemClock, clock_from_settings
from domain.settings import Settings

TAG = "one-off"


@dataclass(frozen=True)
class OneOffRun:
    deployment: str
    at: Callable[[Settings], dt.datetime]
    label: str


def switch_instant(settings: Settings) -> dt.datetime:
    return Calendar.from_settings(settings).switch_at


ONE_OFF_RUNS = (OneOffRun("login-migration", switch_instant, "the switch"),)


def schedule(client: SyncPrefectClient, deployment_id: UUID, name: str, at: dt.datetime) -> FlowRun:
    """The run of `deployment_id` scheduled at `at`, created unless it exists already."""
    earlier = client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[TAG]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        ),
    )
    for run in earlier:
        if run.expected_start_time is None or run.expected_start_time != at:
            client.delete_flow_run(run.id)
    return client.create_flow_run_from_deployment(
        deployment_id,
        state=Scheduled(scheduled_time=at),
        tags=[TAG],
        idempotency_key=f"{name}@{at.isoformat()}",
    )


@dataclass(frozen=True)
class Scheduling:
    deployment: str
    label: str
    at: dt.datetime
    run: FlowRun | None  # None: the moment has passed, nothing was scheduled


def schedule_one_off_runs(
    deployments: Sequence[RunnerDeployment], settings: Settings, *, register: bool
) -> list[Scheduling]:
    """Create the one-off runs of these deployments (registering them first when asked).

    A moment already past is not scheduled: Prefect would start a late run at once, and a
    migration must never start because someone restarted `switchover serve` after the switch.
    Past means past for Prefect, which runs on real time — also when the settings let a demo
    stand on an earlier day (``clock_at``).
    """
    wanted = {run.deployment: run for run in ONE_OFF_RUNS}
    now = max(SystemClock().now(), clock_from_settings(settings).now())
    made = []
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            one_off = wanted.get(deployment.name)
            if one_off is None:
                continue
            at = one_off.at(settings)
            if at <= now:
                made.append(Scheduling(deployment.name, one_off.label, at, None))
                continue
            if register:
                applied = deployment.apply()
                assert isinstance(applied, UUID), "apply() ran asynchronously"
                deployment_id = applied
            else:
                deployment_id = client.read_deployment_by_name(deployment.full_name).id
            run = schedule(client, deployment_id, deployment.name, at)
            made.append(Scheduling(deployment.name, one_off.label, at, run))
    return made

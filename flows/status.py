"""What Prefect knows about the nightly deployment, for `kohorte status` (the Prefect side
of it: ``kohorte/`` itself does not import Prefect)."""

from __future__ import annotations


def nightly_runs(url: str) -> dict:
    """The nightly deployment's last finished run and next scheduled run, from Prefect."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def query() -> dict:
        async with get_client() as client:
            try:
                deployment = await client.read_deployment_by_name("nightly/nightly")
            except Exception:  # not deployed (yet)
                return {"deployed": False}
            runs = await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=50,
            )
        finished = [r for r in runs if r.state is not None and r.state.is_final()]
        scheduled = [r for r in runs if r.state is not None and r.state.is_scheduled()]
        schedule = deployment.schedules[0].schedule if deployment.schedules else None

        def brief(run) -> dict:
            return {
                "name": run.name,
                "state": run.state.name,
                "expected_start": run.expected_start_time.isoformat()
                if run.expected_start_time
                else None,
                "end": run.end_time.isoformat() if run.end_time else None,
            }

        return {
            "deployed": True,
            "schedule": f"{schedule.cron} {schedule.timezone}" if schedule else None,
            "last": brief(finished[0]) if finished else None,
            "next": brief(min(scheduled, key=lambda r: r.expected_start_time))
            if scheduled
            else None,
        }

    with temporary_settings({PREFECT_API_URL: url}):
        return asyncio.run(query())

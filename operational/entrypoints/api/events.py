"""/events: the append-only circulation feed ingestion reads."""

from typing import Annotated

from fastapi import APIRouter, Query

from operational.adapters import feed
from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import EventOut, FeedOut, SimulationOut


def events_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.get("/events", response_model=FeedOut)
    def events(
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        _=api.require(Permission.READ_FEED),
    ):
        with api.reading_uow() as work:
            rows = feed.read_events(work.session, after, limit)
            run = feed.simulation_run(work.session)
            return FeedOut(
                database_id=feed.database_id(work.session),
                simulation=SimulationOut(**run) if run else None,
                events=[EventOut(**row) for row in rows],
                next_after=rows[-1]["id"] if rows else after,
            )

    return router

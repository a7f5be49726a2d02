"""/holds: placing, reading and cancelling holds."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import HoldIn, HoldOut, Id, hold_out
from operational.service_layer import services


def holds_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.post("/holds", status_code=201, response_model=HoldOut)
    def place_hold(body: HoldIn, _=api.require(Permission.CIRCULATION)):
        hold = services.place_hold(
            api.uow(), api.clock, body.card_number, body.title_id, body.pickup_branch_code
        )
        return hold_out(hold)

    @router.get("/holds/{hold_id}", response_model=HoldOut)
    def get_hold(hold_id: Annotated[Id, Path(examples=[1])], _=api.require(Permission.CIRCULATION)):
        with api.reading_uow() as work:
            return hold_out(work.holds.get(hold_id))

    @router.post("/holds/{hold_id}/cancel", response_model=HoldOut)
    def cancel_hold(
        hold_id: Annotated[Id, Path(examples=[2])],
        reason: Annotated[Literal["patron", "staff"], Query()] = "patron",
        _=api.require(Permission.CIRCULATION),
    ):
        return hold_out(services.cancel_hold(api.uow(), api.clock, hold_id, reason))

    return router

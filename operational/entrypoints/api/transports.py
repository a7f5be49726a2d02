"""/transports: the vans' open transports, dispatch and receipt."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import Id, ReceiveOut, TransportOut, transport_out
from operational.service_layer import services


def transports_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.get("/transports", response_model=list[TransportOut])
    def open_transports(
        from_branch_code: Annotated[str | None, Query(max_length=20)] = None,
        _=api.require(Permission.CIRCULATION),
    ):
        with api.reading_uow() as work:
            return [
                transport_out(t)
                for t in work.transports.open()
                if from_branch_code is None or t.from_branch_code == from_branch_code
            ]

    @router.post("/transports/{transport_id}/dispatch", response_model=TransportOut)
    def dispatch(
        transport_id: Annotated[Id, Path(examples=[1])], _=api.require(Permission.CIRCULATION)
    ):
        return transport_out(services.dispatch_transport(api.uow(), api.clock, transport_id))

    @router.post("/transports/{transport_id}/receive", response_model=ReceiveOut)
    def receive(
        transport_id: Annotated[Id, Path(examples=[2])], _=api.require(Permission.CIRCULATION)
    ):
        outcome = services.receive_transport(api.uow(), api.clock, transport_id)
        with api.reading_uow() as reading:
            transport = reading.transports.get(transport_id)
            return transport_out(
                transport,
                ReceiveOut,
                action=str(outcome.action),
                next_transport_id=outcome.transport.id if outcome.transport else None,
            )

    return router

"""/loans and /returns: check-out, renewal and check-in at a branch's desk."""

from typing import Annotated

from fastapi import APIRouter, Path

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import Id, LoanIn, LoanOut, ReturnIn, ReturnOut
from operational.service_layer import services


def loans_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.post("/loans", status_code=201, response_model=LoanOut)
    def checkout(body: LoanIn, _=api.require(Permission.CIRCULATION)):
        loan = services.checkout(
            api.uow(), api.clock, body.card_number, body.item_barcode, body.branch_code
        )
        return LoanOut(loan_id=loan.id, due_at=loan.due_at)

    @router.post("/loans/{loan_id}/renew", response_model=LoanOut)
    def renew(loan_id: Annotated[Id, Path(examples=[1])], _=api.require(Permission.CIRCULATION)):
        loan = services.renew(api.uow(), api.clock, loan_id)
        return LoanOut(loan_id=loan.id, due_at=loan.due_at)

    @router.post("/returns", response_model=ReturnOut)
    def checkin(body: ReturnIn, _=api.require(Permission.CIRCULATION)):
        outcome = services.checkin(api.uow(), api.clock, body.item_barcode, body.branch_code)
        return ReturnOut(
            action=str(outcome.action),
            transport_id=outcome.transport.id if outcome.transport else None,
            hold_id=outcome.hold.id if outcome.hold else None,
        )

    return router

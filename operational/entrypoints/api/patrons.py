"""/patrons: registering patrons, their loans, and their PINs for the visitors' web."""

from typing import Annotated

from fastapi import APIRouter, Path

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import PatronIn, PatronLoanOut, PatronOut, PinIn
from operational.service_layer import services, visitors


def patrons_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.post("/patrons", status_code=201, response_model=PatronOut)
    def register_patron(body: PatronIn, _=api.require(Permission.REGISTER_PATRONS)):
        patron = services.register_patron(api.uow(), api.clock, **body.model_dump())
        return PatronOut(
            card_number=patron.card_number,
            home_municipality_code=patron.home_municipality_code,
            home_branch_code=patron.home_branch_code,
            category=str(patron.category),
        )

    @router.get("/patrons/{card_number}/loans", response_model=list[PatronLoanOut])
    def patron_loans(
        card_number: Annotated[str, Path(max_length=40, examples=["CARD-2"])],
        _=api.require(Permission.READ_PATRON_LOANS),
    ):
        with api.reading_uow() as work:
            patron = work.patrons.by_card(card_number)
            return [
                PatronLoanOut(
                    loan_id=loan.id,
                    item_barcode=loan.item.barcode,
                    title=loan.item.title.title,
                    branch_code=loan.branch_code,
                    checked_out_at=loan.checked_out_at,
                    due_at=loan.due_at,
                    renewals=loan.renewals,
                    returned_at=loan.returned_at,
                    return_branch_code=loan.return_branch_code,
                )
                for loan in work.loans.of_patron(patron.id)
            ]

    @router.post("/patrons/pin", status_code=204)
    def set_pin(body: PinIn, _=api.require(Permission.REGISTER_PATRONS)):
        """Set a patron's PIN for the visitors' web (only its Argon2id hash is stored; the
        patron's open web sessions end). The card number goes in the body, not the URL."""
        visitors.set_pin(api.uow(), api.clock, api.pin_hasher, body.card_number, body.pin)

    return router

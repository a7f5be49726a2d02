"""/memberships: a municipality joining or leaving the consortium."""

from fastapi import APIRouter

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import MembershipIn
from operational.service_layer import services


def memberships_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.post("/memberships", status_code=201)
    def change_membership(body: MembershipIn, _=api.require(Permission.MANAGE_MEMBERSHIP)):
        membership = services.change_membership(api.uow(), api.clock, **body.model_dump())
        return {
            "municipality_code": membership.municipality_code,
            "joined_on": membership.joined_on,
            "left_on": membership.left_on,
        }

    return router

"""/branches: the consortium's branches."""

from fastapi import APIRouter

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import BranchOut


def branches_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.get("/branches", response_model=list[BranchOut])
    def list_branches(_=api.require(Permission.READ_BRANCHES)):
        with api.reading_uow() as work:
            return [
                BranchOut(
                    code=b.code,
                    name=b.name,
                    municipality_code=b.municipality_code,
                    kind=str(b.kind),
                )
                for b in work.reference.branches()
            ]

    return router

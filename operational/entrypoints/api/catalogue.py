"""/titles and /items: adding to the shared catalogue."""

from fastapi import APIRouter

from operational.domain.access import Permission
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.schemas import ItemIn, ItemOut, TitleIn, TitleOut
from operational.service_layer import services


def catalogue_router(api: ApiContext) -> APIRouter:
    router = APIRouter()

    @router.post("/titles", status_code=201, response_model=TitleOut)
    def add_title(body: TitleIn, _=api.require(Permission.MANAGE_CATALOGUE)):
        title = services.add_title(api.uow(), api.clock, **body.model_dump())
        return TitleOut(
            id=title.id,
            title=title.title,
            media_type=str(title.media_type),
            audience=str(title.audience),
            collection_code=title.collection_code,
        )

    @router.post("/items", status_code=201, response_model=ItemOut)
    def add_item(body: ItemIn, _=api.require(Permission.ADD_ITEMS)):
        item = services.add_item(api.uow(), api.clock, **body.model_dump())
        return ItemOut(
            id=item.id,
            barcode=item.barcode,
            title_id=item.title.id,
            home_branch_code=item.home_branch_code,
            current_branch_code=item.current_branch_code,
            status=str(item.status),
        )

    return router

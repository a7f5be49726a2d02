"""The lending core's HTTP API: `create_app` (app.py) builds it from one router per
resource, the request and answer bodies (schemas.py), the caller checks and units of work
(dependencies.py) and the mapping of refusals to answers (errors.py)."""

from operational.entrypoints.api.app import create_app

__all__ = ["create_app"]

"""The visitors' web: search the shared catalogue, see where a copy is, sign in with card and
PIN, renew and reserve. Server-rendered Swedish HTML (Jinja2, plain forms, no script),
served by `bibbla serve` next to the API; see routes.py."""

from operational.entrypoints.web.routes import STATIC_DIR, WebSettings, create_web_router

__all__ = ["STATIC_DIR", "WebSettings", "create_web_router"]

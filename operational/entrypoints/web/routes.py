"""The visitors' web pages. Handlers parse the request, call a visitor use case
(service_layer/visitors.py) and render a template; refusals become Swedish messages.

| path | what |
| --- | --- |
| `/` and `/sok?q=…` | search, with facets and paging |
| `/titel/{id}` | a title's copies, their shelf status, the queue; reserve (signed in) |
| `/logga-in`, `/logga-ut` | sign in with card and PIN; sign out |
| `/mina-sidor` | own loans (renew) and holds (cancel) |
| `/bibliotek` | the member libraries and their opening hours |

A change is a POST with a CSRF token, answered by a redirect to a page that shows what
happened (a short-lived cookie carries only a message code and an id, nothing personal).
No personal data goes into a URL or a log line.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from operational.adapters.catalogue import SearchQuery
from operational.adapters.pin_hashing import Argon2PinHasher
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import Clock, local_date
from operational.domain import errors
from operational.domain.model import Audience, HoldStatus, MediaType
from operational.domain.visitors import csrf_matches
from operational.entrypoints.throttle import TooManyFailedAttempts
from operational.entrypoints.web import security, texts
from operational.service_layer import visitors

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
MAX_QUERY = 200
MAX_PAGE = 500
BRANCHES_FOR = 60.0  # seconds the branch list is kept
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_CARD = re.compile(r"^[A-Za-z0-9-]{4,40}$")


@dataclass(frozen=True)
class WebSettings:
    """Failed log-ins allowed per card and per client before either is refused (429)."""

    failed_logins_per_card: str = "5/15 minutes"
    failed_logins_per_client: str = "30/10 minutes"


def create_web_router(
    engine: Engine,
    clock: Clock,
    settings: WebSettings | None = None,
    hasher: Argon2PinHasher | None = None,
) -> APIRouter:
    settings = settings or WebSettings()
    hasher = hasher or Argon2PinHasher()
    throttle = security.LoginThrottle(
        settings.failed_logins_per_card, settings.failed_logins_per_client
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(texts=texts, facet_names=texts.FACET_NAMES)
    router = APIRouter(include_in_schema=False)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    branch_list = {"read_at": -1e9, "branches": {}}

    def branches() -> dict:
        """The lending branches by code, read at most once a minute (reference data, which
        changes with a new `bibbla db init`, not between two searches)."""
        now = time.monotonic()
        if now - branch_list["read_at"] > BRANCHES_FOR:
            branch_list["branches"] = {b.code: b for b in visitors.lending_branches(reading())}
            branch_list["read_at"] = now
        return branch_list["branches"]

    def reading() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, read_only=True)

    # -- helpers

    def current_visitor(request: Request) -> visitors.Visitor | None:
        secret = request.cookies.get(security.SESSION_COOKIE)
        if not secret:
            return None
        try:
            visitor = visitors.signed_in(reading(), clock, secret)
        except visitors.NotSignedIn:
            return None
        if visitor.needs_touch:
            visitors.touch_session(uow(), clock, secret)
        return visitor

    def render(
        request: Request,
        template: str,
        visitor: visitors.Visitor | None,
        status_code: int = 200,
        **context,
    ) -> Response:
        flash = request.cookies.get(security.FLASH_COOKIE)
        response = templates.TemplateResponse(
            request,
            template,
            {"visitor": visitor, "flash_code": _parse_flash(flash), **context},
            status_code=status_code,
        )
        if flash:
            security.clear_cookie(response, request, security.FLASH_COOKIE)
        return security.protect(response, private=visitor is not None or template == "login.html")

    def redirect(request: Request, to: str, flash: str | None = None) -> Response:
        response = RedirectResponse(to, status_code=303)
        if flash:
            security.set_cookie(response, request, security.FLASH_COOKIE, flash, max_age=120)
        return security.protect(response, private=True)

    def refuse_form(request: Request, visitor: visitors.Visitor | None) -> Response:
        return render(
            request,
            "message.html",
            visitor,
            status_code=403,
            heading="Formuläret gick inte att skicka",
            message="Sidan var för gammal eller kom inte från oss. Ladda om sidan och försök igen.",
        )

    async def signed_in_form(request: Request) -> tuple[visitors.Visitor | None, dict]:
        """The visitor and the posted form, or (None, form) when not signed in (the form's
        CSRF token is checked by csrf_ok)."""
        form = dict(await request.form())
        visitor = current_visitor(request)
        return visitor, form

    def csrf_ok(visitor: visitors.Visitor, form: dict) -> bool:
        return csrf_matches(visitor.csrf_token, str(form.get("csrf_token") or ""))

    async def my_page_action(request: Request, raw_id: str):
        """For a button on Mina sidor acting on one loan or hold: (visitor, its id, None)
        when the visitor is signed in, the form carries this session's CSRF token and the
        id is a number; otherwise (visitor, None, the answer to give instead)."""
        visitor, form = await signed_in_form(request)
        if visitor is None:
            login = redirect(request, "/logga-in?" + urlencode({"nasta": "/mina-sidor"}))
            return None, None, login
        if not csrf_ok(visitor, form):
            return visitor, None, refuse_form(request, visitor)
        number = _id(raw_id)
        if number is None:
            return visitor, None, not_found(request, visitor)
        return visitor, number, None

    # -- pages

    @router.get("/")
    def start(request: Request):
        return render(request, "start.html", current_visitor(request))

    @router.get("/sok")
    def search(request: Request):
        params = request.query_params
        text = (params.get("q") or "").strip()[:MAX_QUERY]
        query = SearchQuery(
            text=text,
            media_type=_choice(params.get("medietyp"), {m.value for m in MediaType}),
            language=_language(params.get("sprak")),
            audience=_choice(params.get("malgrupp"), {a.value for a in Audience}),
            library=params.get("bibliotek") or None,
            available_now=params.get("ledigt") == "1",
            page=_page(params.get("sida")),
        )
        known = branches()
        if query.library not in known:
            query = _replace(query, library=None)
        result = visitors.search(reading(), query) if text else None
        return render(
            request,
            "search.html",
            current_visitor(request),
            query=query,
            result=result,
            branches=known,
            link=lambda **changes: _search_link(query, **changes),
        )

    @router.get("/titel/{title_id}")
    def title(request: Request, title_id: str):
        visitor = current_visitor(request)
        number = _id(title_id)
        try:
            if number is None:
                raise errors.NotFound(f"no title {title_id[:20]!r}")
            view = visitors.title_view(
                reading(), clock, number, visitor.patron_id if visitor else None
            )
        except errors.NotFound:
            return not_found(request, visitor)
        return render(
            request,
            "title.html",
            visitor,
            view=view,
            today=local_date(clock.now()),
            refusal=_title_refusal(request.cookies.get(security.FLASH_COOKIE)),
        )

    @router.post("/titel/{title_id}/reservera")
    async def reserve(request: Request, title_id: str):
        visitor, form = await signed_in_form(request)
        number = _id(title_id)
        if number is None:
            return not_found(request, visitor)
        if visitor is None:
            return redirect(request, "/logga-in?" + urlencode({"nasta": f"/titel/{number}"}))
        if not csrf_ok(visitor, form):
            return refuse_form(request, visitor)
        try:
            hold = visitors.place_own_hold(
                uow(), clock, visitor.patron_id, number, str(form.get("hamtas") or "")
            )
        except (errors.DomainError, IntegrityError) as error:
            return redirect(request, f"/titel/{number}", f"hold_refused:{_code(error)}")
        return redirect(request, "/mina-sidor", f"hold_placed:{hold.id}")

    @router.get("/logga-in")
    def login_form(request: Request):
        visitor = current_visitor(request)
        target = _safe_target(request.query_params.get("nasta"))
        if visitor is not None:
            return redirect(request, target)
        return login_page(request, target)

    def login_page(
        request: Request, target: str, status_code: int = 200, error: str | None = None, card=""
    ) -> Response:
        token, new = security.anonymous_csrf(request)
        response = render(
            request,
            "login.html",
            None,
            status_code=status_code,
            csrf_token=token,
            target=target,
            error=error,
            card=card,
        )
        if new:
            security.set_cookie(response, request, security.CSRF_COOKIE, token)
        return response

    @router.post("/logga-in")
    async def login(request: Request):
        form = dict(await request.form())
        target = _safe_target(str(form.get("nasta") or ""))
        expected = request.cookies.get(security.CSRF_COOKIE)
        if not csrf_matches(expected, str(form.get("csrf_token") or "")):
            return refuse_form(request, None)
        card = str(form.get("kort") or "").strip()
        pin = str(form.get("pin") or "")
        client = request.client.host if request.client else "unknown"
        try:
            throttle.check(card, client)
        except TooManyFailedAttempts as error:
            minutes = max(1, -(-error.retry_after // 60))
            response = login_page(
                request,
                target,
                status_code=429,
                error=f"För många misslyckade inloggningar. Vänta {minutes} minut"
                f"{'er' if minutes > 1 else ''} och försök igen.",
                card=card,
            )
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        try:
            if not _CARD.match(card) or not pin:
                raise visitors.LoginRefused("malformed card number or PIN")
            secret = visitors.log_in(reading(), uow(), clock, hasher, card, pin[:64])
        except visitors.LoginRefused:
            throttle.failed(card, client)
            log.info("a failed log-in from the web")  # never the card or the PIN
            return login_page(
                request,
                target,
                status_code=401,
                error="Fel kortnummer eller PIN-kod.",
                card=card,
            )
        response = redirect(request, target)
        security.set_cookie(response, request, security.SESSION_COOKIE, secret)
        security.clear_cookie(response, request, security.CSRF_COOKIE)
        return response

    @router.post("/logga-ut")
    async def logout(request: Request):
        visitor, form = await signed_in_form(request)
        if visitor is None:
            return redirect(request, "/")
        if not csrf_ok(visitor, form):
            return refuse_form(request, visitor)
        visitors.log_out(uow(), request.cookies.get(security.SESSION_COOKIE, ""))
        response = redirect(request, "/", "logged_out")
        security.clear_cookie(response, request, security.SESSION_COOKIE)
        return response

    @router.get("/mina-sidor")
    def my_page(request: Request):
        visitor = current_visitor(request)
        if visitor is None:
            return redirect(request, "/logga-in?" + urlencode({"nasta": "/mina-sidor"}))
        page = visitors.my_page(reading(), visitor.patron_id)
        flash = _parse_flash(request.cookies.get(security.FLASH_COOKIE))
        return render(
            request,
            "my_page.html",
            visitor,
            page=page,
            message=_my_page_message(flash, page),
            HoldStatus=HoldStatus,
        )

    @router.post("/mina-sidor/lan/{loan_id}/fornya")
    async def renew(request: Request, loan_id: str):
        visitor, number, refusal = await my_page_action(request, loan_id)
        if refusal is not None:
            return refusal
        try:
            visitors.renew_own_loan(uow(), clock, visitor.patron_id, number)
        except errors.NotRenewable as error:
            return redirect(
                request, "/mina-sidor", f"renew_refused:{error.reason or 'other'}:{number}"
            )
        except (errors.DomainError, IntegrityError) as error:
            return redirect(request, "/mina-sidor", f"refused:{_code(error)}")
        return redirect(request, "/mina-sidor", f"renewed:{number}")

    @router.post("/mina-sidor/reservationer/{hold_id}/avboka")
    async def cancel(request: Request, hold_id: str):
        visitor, number, refusal = await my_page_action(request, hold_id)
        if refusal is not None:
            return refusal
        try:
            visitors.cancel_own_hold(uow(), clock, visitor.patron_id, number)
        except (errors.DomainError, IntegrityError) as error:
            return redirect(request, "/mina-sidor", f"refused:{_code(error)}")
        return redirect(request, "/mina-sidor", "hold_cancelled")

    @router.get("/bibliotek")
    def libraries(request: Request):
        return render(
            request,
            "libraries.html",
            current_visitor(request),
            municipalities=visitors.member_libraries(reading(), clock),
        )

    def not_found(request: Request, visitor: visitors.Visitor | None = None) -> Response:
        return render(
            request,
            "message.html",
            visitor,
            status_code=404,
            heading="Sidan finns inte",
            message="Vi hittar inte det du letade efter. Sök i katalogen eller gå till startsidan.",
        )

    router.not_found_page = not_found  # used by the app's 404 handler for web paths
    return router


# ------------------------------------------------------------------------- small helpers


def _id(raw: str) -> int | None:
    """A positive id from a path segment; None for anything else (no such page)."""
    if not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= 2**31 - 1:
        return None
    return int(raw)


def _choice(raw: str | None, allowed: set[str]) -> str | None:
    return raw if raw in allowed else None


def _language(raw: str | None) -> str | None:
    return raw if raw and _LANGUAGE.match(raw) else None


def _page(raw: str | None) -> int:
    if raw and raw.isdigit():
        return min(max(int(raw), 1), MAX_PAGE)
    return 1


def _replace(query: SearchQuery, **changes) -> SearchQuery:
    return replace(query, **changes)


_PARAMETER = {
    "text": "q",
    "media_type": "medietyp",
    "language": "sprak",
    "audience": "malgrupp",
    "library": "bibliotek",
    "available_now": "ledigt",
    "page": "sida",
}


def _search_link(query: SearchQuery, **changes) -> str:
    """The search page's address with some choices changed (a facet chosen or removed, a
    page); changing a facet goes back to the first page."""
    values = {name: getattr(query, name) for name in _PARAMETER}
    if "page" not in changes:
        values["page"] = 1
    values.update(changes)
    pairs = []
    for name, parameter in _PARAMETER.items():
        value = values[name]
        if name == "available_now":
            value = "1" if value else None
        if name == "page" and value == 1:
            value = None
        if value:
            pairs.append((parameter, str(value)))
    return "/sok?" + urlencode(pairs)


def _safe_target(raw: str | None) -> str:
    """Where to go after signing in: only a path of this site (no open redirect)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw[:200]
    return "/mina-sidor"


def _code(error: Exception) -> str:
    if isinstance(error, visitors.NothingToReserve):
        return "nothing_to_reserve"
    if isinstance(error, errors.DuplicateHold):
        return "duplicate"
    if isinstance(error, errors.NotPermitted):
        return "not_permitted"
    if isinstance(error, errors.HoldNotActive):
        return "closed"
    if isinstance(error, errors.NotFound):
        return "not_found"
    if isinstance(error, errors.InvalidRequest):
        return "invalid"
    return "other"


_REFUSALS = {
    "nothing_to_reserve": visitors.NothingToReserve(""),
    "duplicate": errors.DuplicateHold(""),
    "not_permitted": errors.NotPermitted(""),
    "closed": errors.HoldNotActive(""),
    "not_found": errors.NotFound(""),
    "invalid": errors.InvalidRequest(""),
    "other": errors.Conflict(""),
}


def _parse_flash(raw: str | None) -> tuple[str, ...] | None:
    if not raw or len(raw) > 80 or not re.fullmatch(r"[a-z_]+(:[a-z_0-9]+){0,2}", raw):
        return None
    return tuple(raw.split(":"))


def _title_refusal(raw: str | None) -> str | None:
    flash = _parse_flash(raw)
    if flash and flash[0] == "hold_refused" and len(flash) == 2 and flash[1] in _REFUSALS:
        return texts.refusal(_REFUSALS[flash[1]])
    return None


@dataclass(frozen=True)
class Message:
    text: str
    ok: bool


def _my_page_message(flash: tuple[str, ...] | None, page: visitors.MyPage) -> Message | None:
    """What the last action on "Mina sidor" did, said with the page's own data."""
    if not flash:
        return None
    kind, rest = flash[0], flash[1:]
    loans = {loan.id: loan for loan in page.loans}
    if kind == "renewed" and rest and rest[0].isdigit() and int(rest[0]) in loans:
        loan = loans[int(rest[0])]
        return Message(
            f"”{loan.item.title.title}” är förnyad. Ny återlämningsdag: {texts.day(loan.due_at)}.",
            True,
        )
    if kind == "renew_refused" and len(rest) == 2 and rest[1].isdigit():
        loan = loans.get(int(rest[1]))
        reason = texts.RENEWAL_REFUSALS.get(rest[0], "den kan inte förnyas just nu.")
        what = f"”{loan.item.title.title}”" if loan else "Lånet"
        return Message(f"{what} kunde inte förnyas: {reason}", False)
    if kind == "hold_placed" and rest and rest[0].isdigit():
        for line in page.holds:
            if line.hold.id == int(rest[0]):
                branch = page.branches.get(line.hold.pickup_branch_code)
                return Message(
                    f"Du har reserverat ”{line.hold.title.title}”. Du hämtar den på "
                    f"{branch.name if branch else line.hold.pickup_branch_code}.",
                    True,
                )
        return Message("Reservationen är gjord.", True)
    if kind == "hold_cancelled":
        return Message("Reservationen är avbokad.", True)
    if kind == "refused" and rest and rest[0] in _REFUSALS:
        return Message(texts.refusal(_REFUSALS[rest[0]]), False)
    return None

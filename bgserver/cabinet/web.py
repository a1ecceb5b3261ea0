"""The cabinet's HTTP side: pages under ``/cabinet/`` (Klein, Jinja2 autoescaped), the
session cookie, CSRF, language, static files.

Every page is one registration: ``view`` draws it; ``action`` (its POST) does a change
and redirects (303) back, or raises a billing error and the page is drawn again with the
message. A POST is refused unless its ``csrf_token`` is the session's (synchronizer
token; on the login form, the one in the login cookie). The contract always comes from
the session, never from the URL or a form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from klein import Klein
from twisted.internet.defer import CancelledError
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound as RouteNotFound

from bgserver.billing.access import Caller
from bgserver.billing.errors import BillingError, Invalid, TooManyAttempts, Unauthenticated
from bgserver.cabinet import charts, reports
from bgserver.cabinet.i18n import TEXT, Locale, choose
from bgserver.cabinet.service import PASSWORD_MAX, PASSWORD_MIN, CabinetService
from bgserver.storage.database import DatabaseUnavailable

log = Logger()

ROOT = "/cabinet"
SESSION_COOKIE = b"bgcab_session"
LOGIN_COOKIE = b"bgcab_login"
LANG_COOKIE = b"bgcab_lang"
#: Messages a redirect may ask for (``?done=``): only these, never text from the URL.
DONE = frozenset(k.removeprefix("done.") for k in TEXT if k.startswith("done."))
HEADERS = {
    b"content-security-policy": b"default-src 'none'; style-src 'self'; img-src 'self'; "
                                b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"cache-control": b"no-store",
}
STATIC_TYPES = {".css": b"text/css; charset=utf-8", ".svg": b"image/svg+xml",
                ".ico": b"image/x-icon"}
ERROR_STATUS = {"validation_failed": 422, "not_found": 404, "conflict": 409,
                "forbidden": 403, "unauthenticated": 401, "too_many_requests": 429,
                "bad_request": 400}


def csrf_token(session_token: str) -> str:
    """A session's synchronizer token: derived from its secret under a label of its own, so
    it dies with the session and tells nothing of the cookie."""
    return hashlib.sha256(b"bgbilling cabinet csrf\0" + session_token.encode()).hexdigest()


@dataclass
class Page:
    """One request as a page sees it."""
    request: Any
    t: Locale
    caller: Caller | None = None
    token: str | None = None
    form: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return getattr(self.request.getClientAddress(), "host", None) or "unknown"

    def query(self, name: str) -> str | None:
        values = self.request.args.get(name.encode())
        return values[0].decode("utf-8", "replace") if values else None


@dataclass
class Render:
    template: str
    data: dict[str, Any]
    status: int = 200


@dataclass
class Redirect:
    location: str


@dataclass
class Download:
    body: bytes
    content_type: bytes
    filename: str


View = Callable[[Page], Awaitable[Render]]
Action = Callable[[Page], Awaitable[Redirect]]


def _done(path: str, done: str) -> Redirect:
    return Redirect(f"{path}?{urlencode({'done': done})}")


def _month_arg(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw + "-01") if raw else None
    except ValueError:
        return None


class CabinetWeb:
    def __init__(self, service: CabinetService, clock: Any):
        self.service = service
        self.clock = clock
        billing = service.settings.billing
        self.zone, self.currency = billing.zone, billing.currency
        self.app = Klein()
        self.env = Environment(loader=PackageLoader("bgserver.cabinet", "templates"),
                               autoescape=True, undefined=StrictUndefined,
                               auto_reload=False,  # shipped templates do not change
                               trim_blocks=True, lstrip_blocks=True)
        folder = resources.files("bgserver.cabinet") / "static"
        self.static = {f.name: f.read_bytes() for f in folder.iterdir()
                       if f.is_file() and any(f.name.endswith(s) for s in STATIC_TYPES)}
        self.reports = list(service.reports.values())
        self.offers = list(service.offers.values())
        self._register()

    def resource(self):
        return self.app.resource()

    # -- the mechanism -----------------------------------------------------------------

    def page(self, path: str, view: View, action: Action | None = None, *,
             signed_in: bool = True) -> None:
        async def get(request):
            return await self._serve(request, view, None, signed_in)

        self.app.route(ROOT + path, methods=["GET", "HEAD"], endpoint=f"GET {path}")(get)
        if action is not None:
            async def post(request):
                return await self._serve(request, view, action, signed_in)

            self.app.route(ROOT + path, methods=["POST"], endpoint=f"POST {path}")(post)

    async def _serve(self, request, view: View, action: Action | None,
                     signed_in: bool) -> bytes:
        for name, value in HEADERS.items():
            request.setHeader(name, value)
        page = Page(request, self._locale(request))
        try:
            page.token = _cookie(request, SESSION_COOKIE)
            if page.token:
                page.caller = await self.service.caller(page.token, page.address)
            if signed_in and page.caller is None:
                if page.token:
                    self._expire(request, SESSION_COOKIE)
                return self._redirect(request, Redirect(f"{ROOT}/login"))
            if action is not None:
                page.form = _form(request)
                if not self._csrf_ok(page, signed_in):
                    log.warn("cabinet form without a valid csrf_token at {path}",
                             path=request.path.decode("latin-1"))
                    return await self._draw(page, view, page.t("csrf"), 403)
                try:
                    outcome = await action(page)
                except BillingError as error:
                    return await self._draw(page, view, self._message(page.t, error),
                                            ERROR_STATUS.get(error.code, 400), error)
                return self._redirect(request, outcome)
            return self._send(page, await view(page))
        except DatabaseUnavailable:
            return self._plain(request, 503, page.t("error"))
        except CancelledError:
            raise
        except BillingError as error:  # a view refusing what it was asked (bad dates...)
            return self._plain(request, ERROR_STATUS.get(error.code, 400),
                               self._message(page.t, error))
        except Exception:
            log.failure("cabinet page {path} failed", path=request.path.decode("latin-1"))
            return self._plain(request, 500, page.t("error"))

    async def _draw(self, page: Page, view: View, error: str, status: int,
                    failure: BillingError | None = None) -> bytes:
        rendered = await view(page)
        rendered.data["error"] = error
        rendered.status = status
        if isinstance(failure, TooManyAttempts):
            page.request.setHeader(b"retry-after", str(failure.retry_after).encode())
        return self._send(page, rendered)

    @staticmethod
    def _message(t: Locale, error: BillingError) -> str:
        if error.message in TEXT:
            return t(error.message, min=PASSWORD_MIN, max=PASSWORD_MAX)
        return error.message

    def _csrf_ok(self, page: Page, signed_in: bool) -> bool:
        given = page.form.get("csrf_token", "")
        if page.caller is not None and page.token:
            expected = csrf_token(page.token)
        elif not signed_in:
            expected = _cookie(page.request, LOGIN_COOKIE) or ""
        else:
            return False
        return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())

    def _locale(self, request) -> Locale:
        asked = request.args.get(b"lang", [b""])[0].decode("ascii", "replace")
        lang = choose(asked, _cookie(request, LANG_COOKIE),
                      (request.getHeader(b"accept-language") or b"").decode("latin-1"))
        if asked == lang:
            self._cookie(request, LANG_COOKIE, lang, max_age=365 * 86400)
        return Locale(lang, self.zone, self.currency)

    def _cookie(self, request, name: bytes, value: str, max_age: int | None = None) -> None:
        request.addCookie(name, value.encode(), path=ROOT.encode() + b"/", httpOnly=True,
                          secure=request.isSecure(), sameSite="lax",
                          max_age=None if max_age is None else str(max_age).encode())

    def _expire(self, request, name: bytes) -> None:
        self._cookie(request, name, "", max_age=0)

    def _send(self, page: Page, rendered: Render | Redirect | Download) -> bytes:
        request = page.request
        if isinstance(rendered, Redirect):
            return self._redirect(request, rendered)
        if isinstance(rendered, Download):
            request.setHeader(b"content-type", rendered.content_type)
            request.setHeader(b"content-disposition",
                              f'attachment; filename="{rendered.filename}"'.encode())
            return rendered.body
        data = {**self._common(page), **rendered.data}
        request.setResponseCode(rendered.status)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return self.env.get_template(rendered.template).render(**data).encode("utf-8")

    def _common(self, page: Page) -> dict[str, Any]:
        t = page.t
        path = page.request.path.decode("latin-1")
        nav = [("/", t("nav.overview")), ("/money", t("nav.money"))]
        nav += [(f"/{r.name}", t.pick(r.title)) for r in self.reports + self.offers]
        nav += [("/tariff", t("nav.tariff")), ("/params", t("nav.params")),
                ("/password", t("nav.password"))]
        done = page.query("done")
        return {"t": t, "lang": t.lang, "root": ROOT, "path": path,
                "nav": [(ROOT + p, title, path == ROOT + p) for p, title in nav],
                "caller": page.caller,
                "csrf": csrf_token(page.token) if page.caller and page.token else "",
                "done": t("done." + done) if done in DONE else None, "error": None}

    @staticmethod
    def _redirect(request, outcome: Redirect) -> bytes:
        request.setResponseCode(303)
        request.setHeader(b"location", outcome.location.encode())
        return b""

    def _plain(self, request, status: int, message: str) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        locale = self._locale(request)
        return self.env.get_template("message.html").render(
            t=locale, lang=locale.lang, message=message, root=ROOT).encode("utf-8")

    # -- the pages ---------------------------------------------------------------------

    def _register(self) -> None:
        self.page("/login", self.login_view, self.login, signed_in=False)
        self.app.route(ROOT + "/logout", methods=["POST"], endpoint="logout")(self.logout)
        self.page("/", self.overview, None)
        self.app.route(ROOT + "/suspend", methods=["POST"], endpoint="suspend")(
            self._action_of(self.overview, self.suspend))
        self.app.route(ROOT + "/promise", methods=["POST"], endpoint="promise")(
            self._action_of(self.overview, self.promise))
        self.page("/money", self.money)
        self.page("/tariff", self.tariff, self.change_tariff)
        self.page("/params", self.params, self.set_param)
        self.page("/password", self.password_view, self.change_password)
        for report in self.reports:
            self.page(f"/{report.name}", self._report_view(report))
            self.app.route(f"{ROOT}/{report.name}.csv", methods=["GET"],
                           endpoint=f"csv {report.name}")(
                self._report_csv(report))
        for offers in self.offers:
            self.page(f"/{offers.name}", self._offers_view(offers), self._order(offers))
        self.app.route(ROOT + "/static/<name>", methods=["GET", "HEAD"],
                       endpoint="static")(self.static_file)
        self.app.handle_errors(RouteNotFound)(self.not_found)
        self.app.handle_errors(MethodNotAllowed)(self.not_allowed)

    def _action_of(self, view: View, action: Action):
        async def endpoint(request):
            return await self._serve(request, view, action, True)
        return endpoint

    def static_file(self, request, name: str) -> bytes:
        body = self.static.get(name)
        if body is None:
            return self.not_found(request, None)
        suffix = name[name.rfind("."):]
        request.setHeader(b"content-type", STATIC_TYPES[suffix])
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"cache-control", b"public, max-age=3600")
        return body

    def not_found(self, request, failure) -> bytes:
        for name, value in HEADERS.items():
            request.setHeader(name, value)
        return self._plain(request, 404, self._locale(request)("not_found"))

    def not_allowed(self, request, failure) -> bytes:
        for name, value in HEADERS.items():
            request.setHeader(name, value)
        return self._plain(request, 405, self._locale(request)("not_found"))

    # -- signing in and out

    async def login_view(self, page: Page) -> Render:
        if page.caller is not None:
            return Redirect(ROOT + "/")  # type: ignore[return-value]
        token = _cookie(page.request, LOGIN_COOKIE)
        if not token or len(token) != 43:
            token = secrets.token_urlsafe(32)
            self._cookie(page.request, LOGIN_COOKIE, token)
        return Render("login.html", {"login_csrf": token,
                                     "number": page.form.get("number", "")[:64]})

    async def login(self, page: Page) -> Redirect:
        try:
            signed = await self.service.login(page.form.get("number", ""),
                                              page.form.get("password", ""), page.address)
        except Unauthenticated:
            raise Unauthenticated("login.wrong") from None
        except TooManyAttempts as error:
            raise TooManyAttempts("login.throttled", error.retry_after) from None
        max_age = int((signed.expires_at - self.clock.now()).total_seconds())
        self._cookie(page.request, SESSION_COOKIE, signed.token, max_age=max_age)
        self._expire(page.request, LOGIN_COOKIE)
        return Redirect(ROOT + "/")

    async def logout(self, request) -> bytes:
        async def out(page: Page) -> Redirect:
            await self.service.logout(page.caller)
            self._expire(page.request, SESSION_COOKIE)
            return _done(ROOT + "/login", "signed_out")

        return await self._serve(request, self.overview, out, True)

    # -- overview and self-service

    async def overview(self, page: Page) -> Render:
        data = await self.service.overview(page.caller)
        month = data["month"]
        t = page.t
        chart_list = [(t("chart.spending"), charts.month_bars(month, data["spending"]))]
        for name, rows in data["usage"].items():
            report = self.service.reports[name]
            values = reports.chart_values(report, rows, self.zone)
            chart_list.append((t.pick(report.chart_title or report.title),
                               charts.month_bars(month, values)))
        settings = self.service.cabinet
        return Render("overview.html", {**data, "charts": chart_list,
                                        "settings": settings,
                                        "today": self.clock.today()})

    async def suspend(self, page: Page) -> Redirect:
        await self.service.suspend(page.caller, page.form.get("days", ""))
        return _done(ROOT + "/", "suspended")

    async def promise(self, page: Page) -> Redirect:
        await self.service.promise(page.caller, page.form.get("amount", ""),
                                   page.form.get("days", ""))
        return _done(ROOT + "/", "promised")

    # -- money

    async def money(self, page: Page) -> Render:
        data = await self.service.money(page.caller, _month_arg(page.query("month")))
        return Render("money.html", data)

    # -- tariff

    async def tariff(self, page: Page) -> Render:
        return Render("tariff.html", await self.service.tariff(page.caller))

    async def change_tariff(self, page: Page) -> Redirect:
        if page.form.get("action") == "cancel":
            await self.service.cancel_tariff_change(page.caller)
            return _done(ROOT + "/tariff", "tariff_cancelled")
        raw = page.form.get("tariff_id", "")
        if not raw.isdigit():
            raise Invalid("no such tariff plan for this contract")
        await self.service.change_tariff(page.caller, int(raw))
        return _done(ROOT + "/tariff", "tariff")

    # -- parameters

    async def params(self, page: Page) -> Render:
        return Render("params.html", {"params": await self.service.param_list(page.caller)})

    async def set_param(self, page: Page) -> Redirect:
        await self.service.set_param(page.caller, page.form.get("key", ""), page.form)
        return _done(ROOT + "/params", "saved")

    # -- password

    async def password_view(self, page: Page) -> Render:
        return Render("password.html", {"min": PASSWORD_MIN})

    async def change_password(self, page: Page) -> Redirect:
        form = page.form
        await self.service.change_password(page.caller, form.get("current", ""),
                                           form.get("new", ""), form.get("repeat", ""))
        self._expire(page.request, SESSION_COOKIE)
        return _done(ROOT + "/login", "password")

    # -- usage reports

    def _dates(self, page: Page) -> tuple[date, date]:
        today = self.clock.today()
        try:
            since = date.fromisoformat(page.query("from") or today.replace(day=1).isoformat())
            until = date.fromisoformat(page.query("to") or today.isoformat())
        except ValueError:
            raise Invalid("report.bad_dates") from None
        if until < since or until - since > timedelta(days=366):
            raise Invalid("report.bad_dates")
        return since, until

    def _report_view(self, report: reports.UsageReport) -> View:
        async def view(page: Page) -> Render:
            since, until = self._dates(page)
            rows = await self.service.report(page.caller, report.name, since, until)
            return Render("report.html", {
                "report": report, "since": since, "until": until, "rows": rows,
                "days": reports.by_day(report, rows, self.zone),
                "totals": reports.totals(report, rows),
                "csv": f"{ROOT}/{report.name}.csv?" + urlencode(
                    {"from": since.isoformat(), "to": until.isoformat()})})
        return view

    def _offers_view(self, offers: reports.OrderOffers) -> View:
        async def view(page: Page) -> Render:
            return Render("services.html", {
                "title": page.t.pick(offers.title), "action": f"{ROOT}/{offers.name}",
                "offers": await self.service.offers_of(page.caller, offers.name)})
        return view

    def _order(self, offers: reports.OrderOffers) -> Action:
        async def action(page: Page) -> Redirect:
            await self.service.order(page.caller, offers.name, page.form.get("offer", ""),
                                     page.form.get("quantity", "1"))
            return _done(f"{ROOT}/{offers.name}", "ordered")
        return action

    def _report_csv(self, report: reports.UsageReport):
        async def view(page: Page) -> Download:
            since, until = self._dates(page)
            rows = await self.service.report(page.caller, report.name, since, until)
            return Download(reports.to_csv(report, rows, self.zone),
                            b"text/csv; charset=utf-8", f"{report.name}-{since}-{until}.csv")

        async def download(request):
            return await self._serve(request, view, None, True)  # type: ignore[arg-type]

        return download


def _cookie(request, name: bytes) -> str | None:
    value = request.getCookie(name)
    return value.decode("ascii", "replace") if value else None


def _form(request) -> dict[str, str]:
    """An urlencoded form body; of a name sent twice, the first."""
    raw = request.content.read() if request.content is not None else b""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return {}
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form

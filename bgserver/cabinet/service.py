"""What the cabinet pages read and do, for a subscriber bound to one contract.

Every read and change goes through :mod:`bgserver.billing.visibility` with the
subscriber's caller, and changes go through the kernel's own functions (tariffs,
parameters, statuses, temporary limits), so they are checked, audited and announced as
the subscriber exactly as an operator's would be.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from twisted.internet import threads
from twisted.logger import Logger

from bgserver.billing import statuses, visibility
from bgserver.billing.access import Caller, subscriber_caller
from bgserver.billing.errors import Conflict, Invalid, NotFound, Unauthenticated
from bgserver.billing.money import temporary_limit
from bgserver.billing.movements import TABLES as MOVEMENTS
from bgserver.billing.params import ADDRESS_FIELDS
from bgserver.billing.passwords import DUMMY_HASH, verify_password
from bgserver.cabinet.reports import OrderOffers, UsageReport
from bgserver.config import Settings
from bgserver.storage import access as access_store
from bgserver.storage import cabinet as store
from bgserver.storage import contracts as contract_store
from bgserver.storage import money as money_store
from bgserver.storage import params as param_store
from bgserver.storage import statuses as status_store
from bgserver.storage import tariffs as tariff_store
from bgshared.api.models import ContractPatch, ContractTariffCreate

log = Logger()

TOKEN_PREFIX = "bgc_"
#: last_seen_at is written at most this often, not on every page.
TOUCH_EVERY = timedelta(seconds=60)
PASSWORD_MIN, PASSWORD_MAX = 6, 1024
#: How far back a report reaches in one request.
REPORT_DAYS = 366


def first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_at: datetime


class CabinetService:
    def __init__(self, database: Any, clock: Any, settings: Settings, contracts: Any,
                 params: Any, tariffs: Any, attempts: Any, reports: tuple[Any, ...] = ()):
        """``attempts``: the process's login throttling (:class:`LoginAttempts`);
        ``reports``: the module types' cabinet pages (usage reports, order offers)."""
        self.database = database
        self.attempts = attempts
        self.clock = clock
        self.settings = settings
        self.cabinet = settings.cabinet
        self.contracts = contracts
        self.params = params
        self.tariffs = tariffs
        self.reports = {r.name: r for r in reports if isinstance(r, UsageReport)}
        self.offers = {r.name: r for r in reports if isinstance(r, OrderOffers)}

    # -- signing in and out ------------------------------------------------------------

    async def login(self, number: str, password: str, address: str) -> SignedIn:
        """A session for the contract number and its cabinet password; 401 for a wrong
        pair (the same for an unknown number), 429 after too many failures — counted as
        operators' logins are, in the ``cabinet`` realm."""
        now = self.clock.now()
        number = number.strip()[:64]
        attempt = await self.attempts.reserve("cabinet", number, address, store.credentials)
        try:
            account = attempt.account
            stored = account.cabinet_password_hash if account is not None else None
            # argon2 is slow on purpose: off the reactor, and as slow for an unknown number
            ok = await threads.deferToThread(verify_password, stored or DUMMY_HASH,
                                             password[:1024])
            ok = ok and stored is not None
            log.info("cabinet login {result} for {number} from {address}",
                     result="succeeded" if ok else "failed", number=number, address=address)
            if not ok:
                raise Unauthenticated("wrong contract number or password")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            expires_at = now + timedelta(hours=self.cabinet.session_hours)

            def finish(conn):
                access_store.login_attempt_succeeded(conn, attempt.id)
                store.insert_session(conn, token, account.id, now, expires_at, address)

            await self.database.run("cabinet_login_finish", finish)
        finally:
            self.attempts.finished(attempt)
        return SignedIn(token, expires_at)

    async def caller(self, token: str | None, address: str | None) -> Caller | None:
        """The subscriber behind a session cookie, or None (no, ended, idle or expired)."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        now = self.clock.now()
        idle = timedelta(minutes=self.cabinet.idle_minutes)

        def look(conn):
            row = store.session_by_token(conn, token)
            if (row is None or row.revoked_at is not None or row.expires_at <= now
                    or row.last_seen_at + idle <= now):
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                store.touch_session(conn, row.id, now)
            return subscriber_caller(row.contract_id, row.number, row.id, address)

        return await self.database.run("cabinet_session", look)

    async def logout(self, caller: Caller) -> None:
        now = self.clock.now()
        await self.database.run("cabinet_logout", store.revoke_session, caller.session_id, now)

    # -- reading -----------------------------------------------------------------------

    def _card(self, conn, caller: Caller) -> dict[str, Any]:
        return visibility.card(caller, contract_store.get_contract(conn, caller.contract_id))

    async def overview(self, caller: Caller) -> dict[str, Any]:
        today = self.clock.today()
        month = today.replace(day=1)

        def read(conn):
            card = self._card(conn, caller)
            contract_id = card["id"]
            in_force = tariff_store.in_force(conn, contract_id, today)
            plan = tariff_store.get_plan(conn, in_force.tariff_id) if in_force else None
            usage = {name: report.rows(conn, contract_id, month, today, self.clock.zone)
                     for name, report in self.reports.items() if report.chart}
            return {"card": card, "month": month,
                    "balance": money_store.balance_row(conn, contract_id, month),
                    "tariff": plan and (plan["cabinet_title"] or plan["title"]),
                    "spending": store.charges_by_day(conn, contract_id, month, today),
                    "usage": usage,
                    "resumes": _resumes(conn, contract_id, today),
                    "next_promise": self._next_promise(conn, contract_id)}

        return await self.database.run("cabinet_overview", read, readonly=True)

    async def money(self, caller: Caller, month: date | None) -> dict[str, Any]:
        today = self.clock.today()
        month = (month or today).replace(day=1)
        until = first_of_next_month(month) - timedelta(days=1)

        def read(conn):
            contract_id = self._card(conn, caller)["id"]
            return {"month": month,
                    "months": store.balance_rows(conn, contract_id),
                    "payments": money_store.list_movements(
                        conn, MOVEMENTS["payment"], contract_id, month, until, None, 1000),
                    "charges": money_store.list_movements(
                        conn, MOVEMENTS["charge"], contract_id, month, until, None, 1000)}

        return await self.database.run("cabinet_money", read, readonly=True)

    async def report(self, caller: Caller, name: str, since: date,
                     until: date) -> list[dict[str, Any]] | None:
        report = self.reports[name]
        if until < since or (until - since).days > REPORT_DAYS:
            raise Invalid("bad dates")

        def read(conn):
            return report.rows(conn, self._card(conn, caller)["id"], since, until,
                               self.clock.zone)

        return await self.database.run(f"cabinet_{name}", read, readonly=True)

    # -- services to order -------------------------------------------------------------

    async def offers_of(self, caller: Caller, name: str) -> list[dict[str, Any]]:
        offers, today = self.offers[name], self.clock.today()

        def read(conn):
            return offers.offers(conn, self._card(conn, caller)["id"], today)

        return await self.database.run(f"cabinet_{name}", read, readonly=True)

    async def order(self, caller: Caller, name: str, offer: str, quantity_text: str) -> Any:
        """``offer`` is ``module_id:service_id`` of one of the offers, else not found."""
        quantity = _whole(quantity_text, "quantity")
        if not 1 <= quantity <= 100:
            raise Invalid("quantity must be 1 to 100", {"quantity": quantity})
        for item in await self.offers_of(caller, name):
            if offer == f"{item['module_id']}:{item['service_id']}":
                return await self.offers[name].order(self.database, self.clock, caller,
                                                     item["module_id"], item["service_id"],
                                                     quantity)
        raise NotFound("no such service to order", {"offer": offer})

    # -- the tariff --------------------------------------------------------------------

    async def tariff(self, caller: Caller) -> dict[str, Any]:
        today = self.clock.today()

        def read(conn):
            card = self._card(conn, caller)
            periods = tariff_store.periods(conn, card["id"])
            titles = {p["id"]: p["cabinet_title"] or p["title"]
                      for p in tariff_store.list_plans(conn)}
            for period in periods:
                period["tariff_title"] = titles.get(period["tariff_id"], period["tariff_title"])
            current = next((p for p in periods if p["date_from"] <= today
                            and (p["date_to"] is None or p["date_to"] >= today)), None)
            upcoming = [p for p in periods if p["date_from"] > today]
            return {"periods": periods, "current": current, "upcoming": upcoming,
                    "choices": self._choices(conn, card, current),
                    "change_from": first_of_next_month(today)}

        return await self.database.run("cabinet_tariff", read, readonly=True)

    @staticmethod
    def _choices(conn, card: dict[str, Any], current: dict[str, Any] | None) -> list[dict]:
        """Enabled plans offered to one of the contract's groups, but the one it is on."""
        groups = set(card["groups"])
        return [{"id": p["id"], "title": p["cabinet_title"] or p["title"]}
                for p in tariff_store.list_plans(conn)
                if p["enabled"] and groups & set(p["groups"])
                and (current is None or p["id"] != current["tariff_id"])]

    async def change_tariff(self, caller: Caller, tariff_id: int) -> dict[str, Any]:
        """From the first of next month; only a plan offered to the contract's groups."""
        today = self.clock.today()

        def allowed(conn):
            card = self._card(conn, caller)
            in_force = tariff_store.in_force(conn, card["id"], today)
            current = None if in_force is None else {"tariff_id": in_force.tariff_id}
            return any(c["id"] == tariff_id for c in self._choices(conn, card, current))

        if not await self.database.run("cabinet_tariff_choices", allowed, readonly=True):
            raise NotFound("no such tariff plan for this contract", {"tariff_id": tariff_id})
        return await self.tariffs.assign(caller, caller.contract_id, ContractTariffCreate(
            tariff_id=tariff_id, date_from=first_of_next_month(today),
            comment="chosen in the cabinet"))

    async def cancel_tariff_change(self, caller: Caller) -> None:
        """Drop the change the subscriber planned (not one an operator planned)."""
        today = self.clock.today()

        def find(conn):
            contract_id = self._card(conn, caller)["id"]
            latest = tariff_store.latest_period(conn, contract_id)
            if latest is None or latest.date_from <= today or (
                    latest.actor_type, latest.actor_id) != ("subscriber", contract_id):
                raise NotFound("no tariff change of yours is planned")
            return latest.id

        period_id = await self.database.run("cabinet_tariff_planned", find, readonly=True)
        await self.tariffs.drop(caller, caller.contract_id, period_id)

    # -- parameters --------------------------------------------------------------------

    async def param_list(self, caller: Caller) -> list[dict[str, Any]]:
        """Parameters with ``cabinet_read`` (or ``cabinet_write``), with the values set."""
        def read(conn):
            contract_id = self._card(conn, caller)["id"]
            values = {v["key"]: v["value"] for v in param_store.contract_values(conn, contract_id)}
            return [{**d, "value": values.get(d["key"])}
                    for d in param_store.list_definitions(conn)
                    if d["cabinet_read"] or d["cabinet_write"]]

        return await self.database.run("cabinet_params", read, readonly=True)

    async def set_param(self, caller: Caller, key: str, form: dict[str, str]) -> None:
        """A value from the form, checked as the API checks it; empty removes it. Only a
        parameter with ``cabinet_write``: any other does not exist here."""
        definition = await self.database.run("cabinet_param", param_store.get_definition,
                                             key, readonly=True)
        if definition is None or not definition["cabinet_write"]:
            raise NotFound(f"no such parameter: {key}", {"param": key})
        kind = definition["type"]
        if kind == "flag":
            value: Any = form.get("value") == "on"
        elif kind == "address":
            value = {name: form.get(f"address.{name}", "") for name in ADDRESS_FIELDS}
            if not any(v.strip() for v in value.values()):
                value = ""
        else:
            value = form.get("value", "")
        if value == "" or (isinstance(value, str) and not value.strip()):
            current = await self.params.values(caller, caller.contract_id)
            if any(item["key"] == key for item in current["items"]):
                await self.params.remove_value(caller, caller.contract_id, key)
            return
        await self.params.set_value(caller, caller.contract_id, key, value)

    # -- the password ------------------------------------------------------------------

    async def change_password(self, caller: Caller, current: str, new: str,
                              repeat: str) -> None:
        """Ends every session of the contract, this one too (the kernel does it)."""
        if not PASSWORD_MIN <= len(new) <= PASSWORD_MAX:
            raise Invalid("password.short")
        if new != repeat:
            raise Invalid("password.mismatch")
        stored = await self.database.run("cabinet_password", store.password_hash,
                                         caller.contract_id, readonly=True)
        if not await threads.deferToThread(verify_password, stored or DUMMY_HASH,
                                           current[:PASSWORD_MAX]) or stored is None:
            raise Invalid("password.wrong")
        await self.contracts.update(caller, caller.contract_id,
                                    ContractPatch(cabinet_password=new))

    # -- self-service ------------------------------------------------------------------

    async def suspend(self, caller: Caller, days_text: str) -> dict[str, Any]:
        """Suspended from today; active again, by the scheduler's statuses task, after
        ``days`` days."""
        low, high = self.cabinet.suspension_min_days, self.cabinet.suspension_max_days
        days = _whole(days_text, "days")
        if not low <= days <= high:
            raise Invalid(f"days must be {low} to {high}", {"days": days})
        today, now = self.clock.today(), self.clock.now()
        resume = today + timedelta(days=days)
        comment = f"suspended in the cabinet for {days} days"

        def suspend(conn):
            row = visibility.contract(conn, caller, caller.contract_id, lock=True)
            if row.status != "active":
                raise Conflict("only an active contract can be suspended",
                               {"status": row.status})
            statuses.change(conn, caller, row.id, "suspended", None, today, comment, today, now)
            statuses.change(conn, caller, row.id, "active", None, resume, comment, today, now)
            return {"from": today, "resumes": resume}

        return await self.database.run("cabinet_suspend", suspend)

    async def promise(self, caller: Caller, amount_text: str, days_text: str) -> dict[str, Any]:
        """A temporary limit ``amount`` below the contract's own for ``days`` days
        (today included), at most once in the configured period."""
        c = self.cabinet
        try:
            amount = Decimal(amount_text.strip().replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise Invalid("amount must be a number", {"amount": amount_text}) from None
        if not amount.is_finite() or amount <= 0 or amount > c.promised_payment_max_amount \
                or amount != amount.quantize(Decimal("0.01")):
            raise Invalid(f"amount must be 0.01 to {c.promised_payment_max_amount}",
                          {"amount": amount_text})
        days = _whole(days_text, "days")
        if not 1 <= days <= c.promised_payment_max_days:
            raise Invalid(f"days must be 1 to {c.promised_payment_max_days}", {"days": days})
        today, now = self.clock.today(), self.clock.now()
        until = today + timedelta(days=days - 1)

        def promise(conn):
            row = visibility.contract(conn, caller, caller.contract_id, lock=True)
            if row.mode != "prepaid":
                raise Conflict("a postpaid contract is never blocked by its balance")
            next_day = self._next_promise(conn, row.id)
            if next_day is not None and next_day > today:
                raise Conflict("a promised payment was taken lately", {"next": next_day})
            held = money_store.temporary_limit_of(conn, row.id)
            if held is not None and held.until >= today:
                raise Conflict("a temporary limit holds already", {"until": held.until})
            store.insert_promised_payment(conn, row.id, amount, until, now)
            return temporary_limit(conn, caller, row.id, row.limit - amount, until, today, now)

        return await self.database.run("cabinet_promise", promise)

    def _next_promise(self, conn, contract_id: int) -> date | None:
        last = store.last_promised_payment(conn, contract_id)
        if last is None:
            return None
        taken = last.created_at.astimezone(self.clock.zone).date()
        return taken + timedelta(days=self.cabinet.promised_payment_period_days)


def _resumes(conn, contract_id: int, today: date) -> date | None:
    """The day a suspended contract is active again, if that is scheduled."""
    for period in status_store.history(conn, contract_id):
        if period["status"] == "active" and not period["applied"] \
                and period["date_from"] > today:
            return period["date_from"]
    return None


def _whole(text: str, name: str) -> int:
    try:
        return int(text.strip())
    except (ValueError, AttributeError):
        raise Invalid(f"{name} must be a whole number", {name: text}) from None

"""Authentication: operator logins and sessions, API keys, failed-login throttling.

All of it lives in the database, so several bgserver processes behind a load balancer act
as one: a token issued by one works on the others, failures against all count together,
and a restart logs nobody out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from twisted.internet import threads
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from bgserver.billing.access import ALL_PERMISSIONS, Caller
from bgserver.billing.errors import TooManyAttempts, Unauthenticated
from bgserver.billing.passwords import DUMMY_HASH, verify_password
from bgserver.billing.recent import Recent
from bgserver.config import AuthSettings
from bgserver.events.outbox import emit
from bgserver.logs import shown
from bgserver.storage import access as store

log = Logger()

SESSION_PREFIX = "bgs_"
API_KEY_PREFIX = "bgk_"
#: last_seen_at / last_used_at are written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def revoked(conn, now, **what: Any) -> None:
    """Tell every bgserver to forget the callers it remembers (:class:`CallerCache`):
    rights were taken away."""
    emit(conn, "access.revoked", what, occurred_at=now)


class CallerCache:
    """Callers by token for a moment, so that a busy client costs no database work for
    authentication on every request. Any revocation here empties it. Requests with one
    token that miss together share one look-up."""

    def __init__(self, reactor: Any, seconds: float, size: int = 10_000):
        self._callers: Recent[str, Caller] = Recent(reactor, seconds, size)
        self._loading: dict[str, list[Deferred]] = {}

    def get(self, token: str, address: str | None = None) -> Caller | None:
        """The caller remembered for ``token``, as calling from ``address``."""
        key = store.token_hash(token)
        caller = self._callers.get(key)
        if caller is not None and caller.address != address:
            caller = replace(caller, address=address)  # a client keeps its address: once
            self._callers.replace(key, caller)
        return caller

    def load(self, token: str,
             lookup: Callable[[], Awaitable[Caller | None]]) -> "Deferred[Caller | None]":
        """``lookup()``'s caller, remembered; joins a look-up of the same token under way."""
        key = store.token_hash(token)
        answer: Deferred = Deferred()
        waiting = self._loading.get(key)
        if waiting is not None:
            waiting.append(answer)
            return answer
        self._loading[key] = [answer]
        generation = self._callers.generation

        def settle(result):
            if not isinstance(result, Failure) and result is not None:
                self._callers.put(key, result, generation)
            for waiter in self._loading.pop(key):
                if isinstance(result, Failure):
                    waiter.errback(result)
                else:
                    waiter.callback(result)

        ensureDeferred(lookup()).addBoth(settle)
        return answer

    def clear(self) -> None:
        self._callers.clear()


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime


class AuthService:
    def __init__(self, database: Any, clock: Any, settings: AuthSettings):
        self.database = database
        self.clock = clock
        self.settings = settings
        self.cache = CallerCache(clock.reactor, settings.cache_seconds)

    # -- operators' logins -------------------------------------------------------------

    async def login(self, login: str, password: str, address: str) -> Session:
        """A session for the right password; 401 otherwise; 429 after too many failures."""
        now = self.clock.now()
        since = now - timedelta(minutes=self.settings.throttle_minutes)

        def check(conn):
            failures = store.recent_failures(conn, "operator", login, address, since)
            return failures, store.operator_credentials(conn, login)

        (by_login, by_address), account = await self.database.run(
            "login_check", check, readonly=True)
        if (by_login >= self.settings.max_failures_per_login
                or by_address >= self.settings.max_failures_per_address):
            log.warn("login throttled for {login} from {address}", login=shown(login),
                     address=address)
            raise TooManyAttempts("too many failed logins; try again later",
                                  int(self.settings.throttle_minutes * 60))
        # argon2 is slow on purpose: off the reactor, and as slow for an unknown login
        ok = await threads.deferToThread(
            verify_password, account.password_hash if account else DUMMY_HASH, password)
        ok = ok and account is not None and account.status == "active"
        token = new_token(SESSION_PREFIX)
        expires_at = now + timedelta(hours=self.settings.session_hours)

        def finish(conn):
            store.record_login_attempt(conn, "operator", login, address, ok, now)
            if ok:
                store.insert_session(conn, token, account.id, now, expires_at, address)

        await self.database.run("login_finish", finish)
        log.info("login {result} for {login} from {address}",
                 result="succeeded" if ok else "failed", login=shown(login), address=address)
        if not ok:
            raise Unauthenticated("wrong login or password")
        return Session(token, expires_at)

    async def logout(self, caller: Caller) -> None:
        self.cache.clear()
        if caller.session_id is None:
            return
        now = self.clock.now()

        def end(conn):
            store.revoke_session(conn, caller.session_id, now)
            revoked(conn, now, session_id=caller.session_id)

        await self.database.run("logout", end)

    # -- every request -----------------------------------------------------------------

    async def authenticate(self, token: str | None, address: str | None) -> Caller:
        """The caller behind a bearer token (session or API key), or 401."""
        if not token:
            raise Unauthenticated("authentication required")
        caller = self.cache.get(token, address)
        if caller is not None:
            return caller
        caller = await self.cache.load(token, lambda: self._lookup(token))
        if caller is None:
            raise Unauthenticated("invalid or expired token")
        return replace(caller, address=address)

    async def _lookup(self, token: str) -> Caller | None:
        now = self.clock.now()
        if token.startswith(API_KEY_PREFIX):
            return await self.database.run("authenticate_api_key", self._api_key_caller,
                                           token, now)
        return await self.database.run("authenticate_session", self._session_caller,
                                       token, now)

    def _session_caller(self, conn, token: str, now: datetime) -> Caller | None:
        row = store.session_by_token(conn, token)
        idle = timedelta(minutes=self.settings.idle_minutes)
        if (row is None or row.revoked_at is not None or row.expires_at <= now
                or row.last_seen_at + idle <= now or row.status != "active"):
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            store.touch_session(conn, row.id, now)
        permissions = store.permissions_of_roles(
            conn, store.operator_role_ids(conn, row.operator_id), ALL_PERMISSIONS)
        return Caller("operator", row.operator_id, row.login, permissions,
                      store.operator_group_ids(conn, row.operator_id), row.id)

    def _api_key_caller(self, conn, key: str, now: datetime) -> Caller | None:
        row = store.api_key_by_key(conn, key)
        if row is None or row.revoked_at is not None:
            return None
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            store.touch_api_key(conn, row.id, now)
        permissions = store.permissions_of_roles(conn, store.api_key_role_ids(conn, row.id),
                                                 ALL_PERMISSIONS)
        return Caller("api_key", row.id, row.title, permissions)

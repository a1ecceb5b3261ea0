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
from twisted.internet.defer import Deferred, DeferredLock, ensureDeferred
from twisted.internet.task import deferLater
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


@dataclass
class LoginAttempt:
    """A login attempt under way: counted as failed until it succeeds."""
    id: int
    key: tuple[str, str, str]
    #: What the realm's ``account(conn, login)`` found (None: no such login).
    account: Any


class LoginAttempts:
    """Failed-login throttling for a realm's logins (``operator``, ``cabinet``).

    Failures are counted per login and address, and per address: a guesser at one address
    gets 429, while the owner of the login, at another address, still signs in. A login
    failing from many addresses at once is slowed for everyone rather than locked. The
    attempt is stored (as failed) in the same unit of work that counts, before the slow
    password check, so a burst of parallel attempts cannot pass the limit together; an
    attempt over the limit only because others of this process are still being checked
    waits for them instead (ten right passwords at once all get in).
    """

    def __init__(self, database: Any, clock: Any, settings: AuthSettings):
        self.database = database
        self.clock = clock
        self.settings = settings
        #: Attempts of this process reserved and being checked, by (realm, login, address).
        self._checking: dict[tuple[str, str, str], int] = {}
        #: This process reserves one attempt of a key at a time, so that an attempt
        #: refused can tell whether others of the key are still being checked.
        self._reserving: dict[tuple[str, str, str], DeferredLock] = {}
        self._waiting: dict[tuple[str, str, str], list[Deferred]] = {}

    async def reserve(self, realm: str, login: str, address: str,
                      account: Callable[[Any, str], Any]) -> LoginAttempt:
        """The attempt, stored as failed, with ``account(conn, login)``; or 429. Each
        reserved attempt must be :meth:`finished` (and marked in the database with
        ``store.login_attempt_succeeded`` in the unit that signs the caller in)."""
        key = (realm, login, address)
        while True:
            lock = self._reserving.setdefault(key, DeferredLock())
            await lock.acquire()
            try:
                failures, attempt_id, found = await self.database.run(
                    "login_reserve", self._reserve, key, self.clock.now(), account)
                if attempt_id is not None:
                    self._checking[key] = self._checking.get(key, 0) + 1
            finally:
                lock.release()
                if not lock.locked and not lock.waiting:
                    del self._reserving[key]
            if attempt_id is not None:
                break
            if not self._checking.get(key):
                log.warn("login throttled for {login} from {address}", login=shown(login),
                         address=address)
                raise TooManyAttempts("too many failed logins; try again later",
                                      int(self.settings.throttle_minutes * 60))
            waiter: Deferred = Deferred()
            self._waiting.setdefault(key, []).append(waiter)
            await waiter
        attempt = LoginAttempt(attempt_id, key, found)
        if failures.login >= self.settings.slow_login_after and self.settings.slow_login_seconds:
            try:
                await deferLater(self.clock.reactor, self.settings.slow_login_seconds)
            except BaseException:
                self.finished(attempt)
                raise
        return attempt

    def _reserve(self, conn, key: tuple[str, str, str], now: datetime,
                 account: Callable[[Any, str], Any]):
        """-> (the failures counted, the attempt's id or None when over a limit, the
        account)."""
        realm, login, address = key
        limits = self.settings
        since = now - timedelta(minutes=limits.throttle_minutes)
        store.lock_login_attempts(conn, realm)
        failures = store.login_failures(conn, realm, login, address, since)
        if (failures.pair >= limits.max_failures_per_login
                or failures.address >= limits.max_failures_per_address):
            return failures, None, None
        return (failures, store.reserve_login_attempt(conn, realm, login, address, now),
                account(conn, login))

    def finished(self, attempt: LoginAttempt) -> None:
        """The attempt's outcome is stored: attempts waiting for it count again."""
        left = self._checking[attempt.key] - 1
        if left:
            self._checking[attempt.key] = left
        else:
            del self._checking[attempt.key]
        for waiter in self._waiting.pop(attempt.key, []):
            waiter.callback(None)


class AuthService:
    def __init__(self, database: Any, clock: Any, settings: AuthSettings):
        self.database = database
        self.clock = clock
        self.settings = settings
        self.cache = CallerCache(clock.reactor, settings.cache_seconds)
        self.attempts = LoginAttempts(database, clock, settings)

    # -- operators' logins -------------------------------------------------------------

    async def login(self, login: str, password: str, address: str) -> Session:
        """A session for the right password; 401 otherwise; 429 after too many failures."""
        now = self.clock.now()
        expires_at = now + timedelta(hours=self.settings.session_hours)
        token = new_token(SESSION_PREFIX)
        attempt = await self.attempts.reserve("operator", login, address,
                                              store.operator_credentials)
        try:
            account = attempt.account
            # argon2 is slow on purpose: off the reactor, and as slow for an unknown login
            ok = await threads.deferToThread(
                verify_password, account.password_hash if account else DUMMY_HASH, password)
            ok = ok and account is not None and account.status == "active"
            log.info("login {result} for {login} from {address}",
                     result="succeeded" if ok else "failed", login=shown(login),
                     address=address)
            if not ok:
                raise Unauthenticated("wrong login or password")

            def finish(conn):
                store.login_attempt_succeeded(conn, attempt.id)
                store.insert_session(conn, token, account.id, now, expires_at, address)

            await self.database.run("login_finish", finish)
        finally:
            self.attempts.finished(attempt)
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

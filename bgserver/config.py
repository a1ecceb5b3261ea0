"""Settings: one TOML file, ``BG_SECTION__KEY`` environment overrides, embedded defaults.

Every key has a default that works on one machine (SQLite under ``var/``, in-process
events), so ``twistd -n bgbilling`` runs with no file at all. A key or value that is wrong
stops start-up with a :class:`ConfigError` naming the key, never a traceback deep inside.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "BG_"
#: ``BG_*`` variables that are not settings keys.
ENV_NOT_KEYS = frozenset({"BG_CONFIG", "BG_ADMIN_PASSWORD"})
DEFAULT_CONFIG_FILE = "bgbilling.toml"


class ConfigError(Exception):
    """The configuration is wrong; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/bgbilling.sqlite3"
    #: Threads doing database work; also the connection pool size.
    threads: int = Field(10, ge=1, le=200)
    connect_timeout: float = Field(5.0, gt=0)
    #: Attempts for one unit of work on deadlock or lost connection.
    retries: int = Field(5, ge=1, le=50)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {exc}") from None
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "mysql+pymysql", "mariadb+pymysql",
                                  "mysql+mysqldb", "mariadb+mysqldb"):
            raise ValueError("use sqlite:///path or mysql+pymysql://user:password@host/db")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class ServerSettings(_Section):
    #: A Twisted server endpoint string.
    listen: str = "tcp:8080:interface=127.0.0.1"
    #: Requests with a larger body are refused with 413.
    max_body_bytes: int = Field(1_048_576, ge=1024)
    #: One JSON line per request: ``-`` standard output, or a file appended to (opened
    #: again on SIGHUP, for logrotate).
    access_log: str = "-"
    #: Load balancers (addresses or networks) whose ``X-Forwarded-For`` names the client;
    #: from anyone else the header is ignored. A string lists them separated by commas.
    trusted_proxies: list[str] = []
    #: A client has this long to send a request line and its headers, seconds (slowloris).
    header_timeout: float = Field(10.0, gt=0, le=300)
    #: Open connections at most from one address (0: no cap); trusted proxies have none.
    max_connections_per_address: int = Field(64, ge=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {text!r}") from None
        return value


class EventsSettings(_Section):
    #: ``local`` (in-process, all-in-one only) or ``stomp://host:61613`` (ActiveMQ).
    broker: str = "local"
    login: str = ""
    passcode: str = ""
    #: STOMP heart-beats both ways, milliseconds.
    heartbeat_ms: int = Field(10_000, ge=0)
    #: How often the outbox relay looks for events not yet published, seconds.
    relay_interval: float = Field(1.0, gt=0)
    relay_batch: int = Field(500, ge=1, le=10_000)
    #: Published outbox rows are kept this long, then pruned by the scheduler.
    retention_days: int = Field(7, ge=1)
    #: STOMP client-id for durable subscriptions; empty: ``<process>@<host name>``.
    client_id: str = ""
    #: A comment line on every open event stream (GET /api/v1/events) this often, seconds,
    #: so that proxies and clients know it is alive; the caller's token is checked then too.
    stream_heartbeat_seconds: float = Field(15.0, gt=0)

    @field_validator("broker")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value == "local":
            return value
        parts = urlsplit(value)
        if parts.scheme != "stomp" or not parts.hostname:
            raise ValueError("use 'local' or 'stomp://host:61613'")
        try:
            parts.port
        except ValueError:
            raise ValueError("the port must be a number") from None
        return value

    @property
    def stomp_address(self) -> tuple[str, int]:
        parts = urlsplit(self.broker)
        return parts.hostname or "127.0.0.1", parts.port or 61613


class AuthSettings(_Section):
    #: A session token lives at most this long, hours.
    session_hours: float = Field(12.0, gt=0)
    #: ...and dies sooner when unused for this long, minutes.
    idle_minutes: float = Field(60.0, gt=0)
    #: Failed logins are counted over this window, minutes; past a limit: 429 for a while.
    throttle_minutes: float = Field(15.0, gt=0)
    #: Failures of one login from one address (other addresses, the owner's among them,
    #: are not locked by them).
    max_failures_per_login: int = Field(5, ge=1)
    #: Failures from one address, whatever the logins.
    max_failures_per_address: int = Field(30, ge=1)
    #: A login that failed this often from all addresses together is attacked from many:
    #: each attempt at it waits ``slow_login_seconds`` first, from any address.
    slow_login_after: int = Field(20, ge=1)
    slow_login_seconds: float = Field(3.0, ge=0, le=60)
    #: A token's caller is remembered this long, seconds (0: ask the database each time).
    #: A revocation clears it at once on its bgserver, on the others when the
    #: ``access.revoked`` event arrives, and in any case after this time.
    cache_seconds: float = Field(1.0, ge=0, le=60)


class ContractSettings(_Section):
    #: New contract numbers: ``{YY}``/``{YYYY}`` the year, ``{N:04}`` a counter per prefix.
    number_pattern: str = "A-{YY}-{N:04}"
    #: A contract card read is remembered at most this long, seconds (0: read it each
    #: time). A change clears it at once on its bgserver, on the others when its event
    #: arrives; while the event bus is disconnected, nothing is remembered.
    cache_seconds: float = Field(60.0, ge=0, le=600)

    @field_validator("number_pattern")
    @classmethod
    def _has_counter(cls, value: str) -> str:
        if "{N" not in value:
            raise ValueError("needs the counter {N} (e.g. A-{YY}-{N:04})")
        try:
            value.format(YY="26", YYYY="2026", N=1)
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"not a valid pattern: {exc}") from None
        return value


class BillingSettings(_Section):
    #: Days and months are cut in this zone; times are stored in UTC.
    timezone: str = "Europe/Moscow"
    currency: str = "RUB"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise ValueError("an ISO 4217 code such as RUB")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SchedulerSettings(_Section):
    #: How often the scheduler wakes to renew its lease and start due tasks, seconds.
    tick: float = Field(5.0, gt=0)
    #: A lease not renewed for this long passes to a standby scheduler, seconds.
    lease_seconds: float = Field(30.0, gt=0)
    #: After downtime, missed cron runs are caught up this many days back at most.
    catch_up_days: float = Field(31.0, ge=0)


class LoaderSettings(_Section):
    #: How often spool directories are scanned for new files, seconds.
    poll_interval: float = Field(5.0, gt=0)
    spool: str = "var/spool"
    #: Lines stored per transaction.
    batch_lines: int = Field(2000, ge=1, le=100_000)
    #: A loader that has not stored a batch of its file for this long has lost it: any
    #: loader takes the file over from its last batch, seconds.
    lease_seconds: float = Field(60.0, gt=0)
    #: A file changed within this many seconds is still being written: left for later.
    settle_seconds: float = Field(2.0, ge=0)


class CabinetSettings(_Section):
    """The subscriber cabinet under ``/cabinet/``."""
    #: A cabinet session ends when unused for this long, minutes...
    idle_minutes: float = Field(30.0, gt=0)
    #: ...and in any case after this long, hours.
    session_hours: float = Field(12.0, gt=0)
    #: Voluntary suspension: the subscriber chooses this many days at least...
    suspension_min_days: int = Field(7, ge=1)
    #: ...and at most.
    suspension_max_days: int = Field(90, ge=1)
    #: Promised payment: the limit goes down by at most this amount...
    promised_payment_max_amount: Decimal = Field(Decimal("500.00"), gt=0, max_digits=14,
                                                 decimal_places=2)
    #: ...for at most this many days...
    promised_payment_max_days: int = Field(5, ge=1, le=60)
    #: ...and a contract gets one at most once in this many days.
    promised_payment_period_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> "CabinetSettings":
        if self.suspension_min_days > self.suspension_max_days:
            raise ValueError("suspension_min_days is more than suspension_max_days")
        return self


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    events: EventsSettings = EventsSettings()
    auth: AuthSettings = AuthSettings()
    contracts: ContractSettings = ContractSettings()
    billing: BillingSettings = BillingSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    loader: LoaderSettings = LoaderSettings()
    cabinet: CabinetSettings = CabinetSettings()

    def with_overrides(self, **sections: Mapping[str, Any]) -> "Settings":
        """A copy with some keys replaced (tests and tools), validated like a file."""
        data = self.model_dump()
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        return _validate(data, "overrides")


def _key_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _validate(data: Mapping[str, Any], source: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _key_name(error["loc"])
            message = ("unknown key" if error["type"] == "extra_forbidden"
                       else error["msg"].removeprefix("Value error, "))
            problems.append(f"{key}: {message}")
        raise ConfigError(f"configuration ({source}): " + "; ".join(problems)) from None


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``BG_DATABASE__URL=...`` -> ``{"database": {"url": "..."}}``."""
    result: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_KEYS:
            continue
        section, sep, key = name[len(ENV_PREFIX):].lower().partition("__")
        if not sep or not section or not key:
            raise ConfigError(f"configuration (environment): {name}: use BG_SECTION__KEY")
        result.setdefault(section, {})[key] = value
    return result


def load_settings(path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the file (``path``, else ``BG_CONFIG``, else ``./bgbilling.toml`` if present),
    then apply the environment on top."""
    environ = os.environ if environ is None else environ
    explicit = path or environ.get("BG_CONFIG")
    file = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    sources = []
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration ({file}): not valid TOML: {exc}") from None
        sources.append(str(file))
    elif explicit:
        raise ConfigError(f"configuration: file {file} not found")
    overrides = env_overrides(environ)
    if overrides:
        sources.append("environment")
        for section, values in overrides.items():
            current = data.setdefault(section, {})
            if not isinstance(current, dict):
                raise ConfigError(f"configuration ({file}): {section}: must be a table")
            current.update(values)
    return _validate(data, " + ".join(sources) or "defaults")

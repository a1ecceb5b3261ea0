"""FreeRADIUS ``detail`` files: RADIUS accounting records become sessions and the days'
traffic and time, booked as usage.

A record is a timestamp line, then tab-indented ``Attribute = value`` lines, then a blank
line. Counters of a session only grow: a record charges what is new since the session's
highest counters (an Interim-Update only its delta; a record seen again nothing). An
Accounting-On or -Off from a NAS ends the sessions it had open.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, BinaryIO, Iterator

from sqlalchemy import and_, insert, select, tuple_, update

from bgserver.loader.formats import (DUPLICATE, SKIPPED, STORED, Batch, Malformed, RawRecord,
                                     SourceInfo, holders, lines_of, round_exact)
from bgserver.modules.inet.config import InetTariff
from bgserver.modules.inet.rating import billable, exact_cost, month_costs, service_of
from bgserver.modules.inet.tables import inet_day, inet_login, inet_session
from bgserver.storage import usage as usage_store

GIGA = 2 ** 32
SESSION_TYPES = {"Start", "Interim-Update", "Alive", "Stop"}
NAS_TYPES = {"Accounting-On", "Accounting-Off"}


@dataclass(frozen=True)
class Accounting:
    line: int
    status: str
    time: datetime
    nas: str
    session_key: str = ""
    session_id: str = ""
    login: str = ""
    ip: str | None = None
    mac: str | None = None
    seconds: int = 0
    bytes_down: int = 0
    bytes_up: int = 0


def _value(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return raw


def _int(attrs: dict[str, str], name: str) -> int:
    raw = attrs.get(name, "0")
    if not raw.isdigit():
        raise Malformed(f"{name} is not a number: {raw!r}")
    return int(raw)


def _moment(attrs: dict[str, str], header: str, source: SourceInfo) -> datetime:
    """When it happened: Event-Timestamp; else the Timestamp the server wrote it at, less
    Acct-Delay-Time; else the record's first line (the server's local time)."""
    event = attrs.get("Event-Timestamp")
    if event:
        if event.isdigit():
            return datetime.fromtimestamp(int(event), timezone.utc)
        text, _, zone = event.rpartition(" ")
        for candidate, zoned in ((text, True), (event, False)):
            try:
                local = datetime.strptime(candidate, "%b %d %Y %H:%M:%S")
            except ValueError:
                continue
            utc = zoned and zone in ("UTC", "GMT")
            return local.replace(tzinfo=timezone.utc if utc else source.zone) \
                .astimezone(timezone.utc)
        raise Malformed(f"Event-Timestamp is not a time: {event!r}")
    delay = timedelta(seconds=_int(attrs, "Acct-Delay-Time"))
    if attrs.get("Timestamp", "").isdigit():
        return datetime.fromtimestamp(int(attrs["Timestamp"]), timezone.utc) - delay
    try:
        local = datetime.strptime(header.strip(), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        raise Malformed(f"not a detail record's first line: {header.strip()!r}") from None
    return local.replace(tzinfo=source.zone).astimezone(timezone.utc) - delay


class FreeradiusDetail:
    name = "freeradius-detail"
    module_type = "inet"

    def records(self, stream: BinaryIO, offset: int, line: int) -> Iterator[RawRecord]:
        lines: list[str] = []
        first = line + 1
        for number, raw, end in lines_of(stream, offset, line):
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                if not lines:
                    first = number
                lines.append(text)
                continue
            yield RawRecord(first if lines else number, "\n".join(lines), end,
                            number - (first if lines else number) + 1)
            lines = []
        if lines:  # the last record, without its blank line
            yield RawRecord(first, "\n".join(lines), stream.tell(), len(lines))

    def parse(self, record: RawRecord, source: SourceInfo) -> Accounting | None:
        if not record.text.strip():
            return None
        header, *rest = record.text.split("\n")
        if header[:1].isspace():
            raise Malformed("the record does not begin with its time")
        attrs: dict[str, str] = {}
        for text in rest:
            name, sep, value = text.strip().partition(" = ")
            if not text[:1].isspace() or not sep:
                raise Malformed(f"not an attribute line: {text.strip()[:60]!r}")
            attrs[name] = _value(value)
        status = attrs.get("Acct-Status-Type", "")
        if status not in SESSION_TYPES | NAS_TYPES:
            raise Malformed(f"Acct-Status-Type {status!r} is not one this loader knows")
        nas = attrs.get("NAS-IP-Address") or attrs.get("NAS-IPv6-Address") \
            or attrs.get("NAS-Identifier") or ""
        if not nas:
            raise Malformed("no NAS-IP-Address")
        moment = _moment(attrs, header, source)
        if status in NAS_TYPES:
            return Accounting(record.line, status, moment, nas)
        session_id = attrs.get("Acct-Session-Id", "")
        login = attrs.get("User-Name", "")
        if not session_id or not login:
            raise Malformed("no Acct-Session-Id or User-Name")
        key = attrs.get("Acct-Unique-Session-Id") or f"{nas}/{session_id}"
        if len(key) > 128:
            key = "sha1:" + hashlib.sha1(key.encode()).hexdigest()
        return Accounting(
            record.line, "Interim-Update" if status == "Alive" else status, moment, nas,
            key, session_id[:64], login[:64], attrs.get("Framed-IP-Address"),
            (attrs.get("Calling-Station-Id") or None),
            _int(attrs, "Acct-Session-Time"),
            _int(attrs, "Acct-Output-Octets") + GIGA * _int(attrs, "Acct-Output-Gigawords"),
            _int(attrs, "Acct-Input-Octets") + GIGA * _int(attrs, "Acct-Input-Gigawords"))

    # -- storing -------------------------------------------------------------------

    def store(self, batch: Batch, records: list[Accounting | None]) -> list[str]:
        conn = batch.conn
        outcomes = [SKIPPED if r is None else DUPLICATE for r in records]
        real = [(i, r) for i, r in enumerate(records) if r is not None]
        keys = sorted({r.session_key for _, r in real if r.session_key})
        sessions = self._sessions(batch, keys)
        found = holders(conn, inet_login, batch.module_id, {
            (r.login, batch.day_of(r.time)) for _, r in real
            if r.session_key and r.session_key not in sessions})
        contracts = batch.lock({s["contract_id"] for s in sessions.values()} | set(found.values()))
        new_keys: set[str] = set()
        changed: set[str] = set()
        days: dict[tuple[int, int, date], list[int]] = {}
        for i, r in real:
            if r.status in NAS_TYPES:
                outcomes[i] = STORED if self._close_nas(batch, r, sessions) else DUPLICATE
                continue
            day = batch.day_of(r.time)
            session = sessions.get(r.session_key)
            contract_id = session["contract_id"] if session else found.get((r.login, day))
            if contract_id is None or contract_id not in contracts:
                outcomes[i] = "unknown login"
                continue
            if day < contracts[contract_id].date_from:
                outcomes[i] = "before the contract began"
                continue
            if batch.closed(day):
                outcomes[i] = f"{day:%Y-%m} is closed"
                continue
            price = service_of(batch.tariff(contract_id, day, InetTariff),
                               session["service_id"] if session else None)
            if price is None:
                outcomes[i] = f"no inet tariff for the session on {day}"
                continue
            if session is None:
                session = sessions[r.session_key] = {
                    "module_id": batch.module_id, "session_key": r.session_key,
                    "session_id": r.session_id, "contract_id": contract_id,
                    "service_id": price.service_id, "login": r.login, "nas": r.nas,
                    "ip": r.ip, "mac": r.mac, "start": r.time - timedelta(seconds=r.seconds),
                    "end": None, "last_update": r.time, "seconds": 0, "bytes_down": 0,
                    "bytes_up": 0, "billable_down": 0, "cost": Decimal("0.00")}
                new_keys.add(r.session_key)
            delta = {k: max(0, getattr(r, k) - session[k])
                     for k in ("seconds", "bytes_down", "bytes_up")}
            ends = r.status == "Stop" and session["end"] is None
            if not any(delta.values()) and not ends and r.session_key not in new_keys - changed:
                continue
            outcomes[i] = STORED
            changed.add(r.session_key)
            if ends:
                session["end"] = r.time
            session["last_update"] = max(session["last_update"], r.time)
            if r.ip and not session["ip"]:
                session["ip"] = r.ip
            if any(delta.values()):
                counted = self._month_download(batch, contract_id, session["service_id"], day,
                                               days)
                session["billable_down"] += billable(counted, counted + delta["bytes_down"],
                                                     price.included_mb)
                for k in ("seconds", "bytes_down", "bytes_up"):
                    session[k] += delta[k]
                day_key = (contract_id, session["service_id"], day)
                totals = days.setdefault(day_key, [0, 0, 0])
                totals[0] += delta["seconds"]
                totals[1] += delta["bytes_down"]
                totals[2] += delta["bytes_up"]
                session["cost"] = round_exact(exact_cost(
                    price, session["billable_down"], session["bytes_up"], session["seconds"]))
        self._save_sessions(batch, sessions, new_keys, changed)
        self._add_days(batch, days)
        self._book_months(batch, contracts, {(c, s, d.replace(day=1)) for c, s, d in days})
        return outcomes

    def _sessions(self, batch: Batch, keys: list[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for start in range(0, len(keys), 500):
            for row in batch.conn.execute(select(inet_session).where(
                    inet_session.c.module_id == batch.module_id,
                    inet_session.c.session_key.in_(keys[start:start + 500]))):
                found[row.session_key] = dict(row._mapping)
        return found

    def _close_nas(self, batch: Batch, r: Accounting, sessions: dict[str, dict]) -> bool:
        """A NAS that restarted has no sessions open any more."""
        closed = batch.conn.execute(update(inet_session).where(
            inet_session.c.module_id == batch.module_id, inet_session.c.nas == r.nas,
            inet_session.c.end.is_(None), inet_session.c.start <= r.time)
            .values(end=r.time)).rowcount
        for session in sessions.values():
            if session["nas"] == r.nas and session["end"] is None and session["start"] <= r.time:
                session["end"] = r.time
        return bool(closed)

    def _month_download(self, batch: Batch, contract_id: int, service_id: int, day: date,
                        pending: dict[tuple[int, int, date], list[int]]) -> int:
        """What the contract downloaded on the service this month so far (stored and in
        this batch)."""
        first = day.replace(day=1)
        stored = sum(batch.conn.execute(select(inet_day.c.bytes_down).where(
            inet_day.c.module_id == batch.module_id, inet_day.c.contract_id == contract_id,
            inet_day.c.service_id == service_id, inet_day.c.day >= first,
            inet_day.c.day <= day)).scalars())
        return stored + sum(v[1] for (c, s, d), v in pending.items()
                            if c == contract_id and s == service_id and first <= d <= day)

    @staticmethod
    def _save_sessions(batch: Batch, sessions: dict[str, dict], new_keys: set[str],
                       changed: set[str]) -> None:
        conn = batch.conn
        fresh = [sessions[k] for k in sorted(new_keys)]
        if fresh:
            conn.execute(insert(inet_session), fresh)
        columns = ("end", "last_update", "ip", "seconds", "bytes_down", "bytes_up",
                   "billable_down", "cost")
        for key in sorted(changed - new_keys):
            session = sessions[key]
            conn.execute(update(inet_session).where(inet_session.c.id == session["id"])
                         .values({k: session[k] for k in columns}))

    @staticmethod
    def _add_days(batch: Batch, days: dict[tuple[int, int, date], list[int]]) -> None:
        conn = batch.conn
        if not days:
            return
        keys = sorted(days)
        existing = {(r.contract_id, r.service_id, r.day) for r in conn.execute(
            select(inet_day.c.contract_id, inet_day.c.service_id, inet_day.c.day).where(
                inet_day.c.module_id == batch.module_id,
                tuple_(inet_day.c.contract_id, inet_day.c.service_id, inet_day.c.day)
                .in_(keys)))}
        for key in keys:
            seconds, down, up = days[key]
            c, s, d = key
            if key in existing:
                conn.execute(update(inet_day).where(and_(
                    inet_day.c.module_id == batch.module_id, inet_day.c.contract_id == c,
                    inet_day.c.service_id == s, inet_day.c.day == d)).values(
                    seconds=inet_day.c.seconds + seconds,
                    bytes_down=inet_day.c.bytes_down + down, bytes_up=inet_day.c.bytes_up + up))
            else:
                conn.execute(insert(inet_day).values(
                    module_id=batch.module_id, contract_id=c, service_id=s, day=d,
                    seconds=seconds, bytes_down=down, bytes_up=up))

    @staticmethod
    def _book_months(batch: Batch, contracts: dict[int, Any],
                     months: set[tuple[int, int, date]], since: date | None = None,
                     until: date | None = None) -> None:
        """Each day of these months priced from its traffic and time and booked as the
        day's usage (only days from ``since`` to ``until`` when given)."""
        totals = {}
        for contract_id, service_id, first in sorted(months):
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            rows = batch.conn.execute(select(
                inet_day.c.day, inet_day.c.seconds, inet_day.c.bytes_down,
                inet_day.c.bytes_up).where(
                inet_day.c.module_id == batch.module_id, inet_day.c.contract_id == contract_id,
                inet_day.c.service_id == service_id, inet_day.c.day >= first,
                inet_day.c.day <= last)).all()
            costs = month_costs([tuple(r) for r in rows], lambda d: service_of(
                batch.tariff(contract_id, d, InetTariff), service_id))
            for day, cost in costs.items():
                if (since is None or since <= day) and (until is None or day <= until):
                    totals[(contract_id, service_id, day)] = round_exact(cost)
        batch.set_usage(contracts, totals)

    def rerate(self, batch: Batch, since: date, until: date, contract_id: int | None) -> int:
        """Price the days again by the tariffs in force now; the months around them are
        counted whole, so the included download falls where it did."""
        query = select(inet_day.c.contract_id, inet_day.c.service_id, inet_day.c.day).where(
            inet_day.c.module_id == batch.module_id, inet_day.c.day >= since,
            inet_day.c.day <= until)
        if contract_id is not None:
            query = query.where(inet_day.c.contract_id == contract_id)
        months = {(c, s, d.replace(day=1)) for c, s, d in batch.conn.execute(query)}
        contracts = batch.lock({c for c, _, _ in months})
        before = {(u["contract_id"], u["service_id"], u["date"]): u["amount"]
                  for u in usage_store.rows_between(batch.conn, batch.module_id, since, until,
                                                    contract_id)}
        self._book_months(batch, contracts, months, since, until)
        after = {(u["contract_id"], u["service_id"], u["date"]): u["amount"]
                 for u in usage_store.rows_between(batch.conn, batch.module_id, since, until,
                                                   contract_id)}
        return sum(1 for k in after if before.get(k) != after[k])

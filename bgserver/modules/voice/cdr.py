"""Asterisk ``cdr_csv`` (Master.csv): one call a line, rated and booked as usage.

Columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
start, answer, end, duration, billsec, disposition, amaflags, then optionally uniqueid and
userfield. Quotes are doubled inside quoted fields; commas may sit inside them. Times are
local, in the source's time zone. Each line is read on its own, so a broken line is
quarantined alone and never swallows the next.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import BinaryIO, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_, update

from bgserver.loader.formats import (DUPLICATE, SKIPPED, STORED, Batch, Malformed, RawRecord,
                                     SourceInfo, holders, lines_of)
from bgserver.modules.voice.config import VoiceTariff
from bgserver.modules.voice.rating import rate
from bgserver.modules.voice.tables import voice_call, voice_number
from bgserver.storage import usage as usage_store
from bgserver.storage.database import insert_rows

COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
           "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
           "disposition", "amaflags", "uniqueid", "userfield")
ZERO = Decimal("0.00")
DISPOSITIONS = {"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"}


def digits(number: str) -> str:
    if number.isdigit():  # most are digits already
        return number
    return "".join(ch for ch in number if ch.isdigit())


@dataclass(frozen=True)
class Call:
    line: int
    call_key: str
    src: str
    dst: str
    start: datetime
    answer: datetime | None
    end: datetime | None
    duration: int
    billsec: int
    disposition: str


def _time(value: str, source: SourceInfo, name: str, required: bool) -> datetime | None:
    if not value:
        if required:
            raise Malformed(f"{name} is empty")
        return None
    second = value[17:]
    if len(value) == 19 and value[16] == ":" and second.isdigit() and second < "60":
        minute = _utc_minute(value[:16], source.zone)
        if minute is not None:
            return minute + timedelta(seconds=int(second))
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise Malformed(f"{name} is not a time: {value!r}") from None
    return local.replace(tzinfo=source.zone).astimezone(timezone.utc)


@lru_cache(maxsize=65536)
def _utc_minute(local: str, zone: ZoneInfo) -> datetime | None:
    """A local ``YYYY-MM-DD HH:MM`` in UTC, worked out once per minute: a file's calls
    share their minutes, and an offset changes on a whole minute. None: not such a time."""
    try:
        moment = datetime.strptime(local, "%Y-%m-%d %H:%M")
    except ValueError:
        return None
    return moment.replace(tzinfo=zone).astimezone(timezone.utc)


def _seconds(value: str, name: str) -> int:
    if not value.isdigit():
        raise Malformed(f"{name} is not a number of seconds: {value!r}")
    return int(value)


class AsteriskCsv:
    name = "asterisk-csv"
    module_type = "voice"

    def records(self, stream: BinaryIO, offset: int, line: int) -> Iterator[RawRecord]:
        for number, raw, end in lines_of(stream, offset, line):
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                yield RawRecord(number, text, end)
            else:  # a blank line: nothing to store, but the position moves on
                yield RawRecord(number, "", end)

    def parse(self, record: RawRecord, source: SourceInfo) -> Call | None:
        if not record.text.strip():
            return None
        try:
            fields = next(csv.reader([record.text], strict=True))
        except csv.Error as exc:
            raise Malformed(f"not a CSV line: {exc}") from None
        if not 16 <= len(fields) <= 18:
            raise Malformed(f"{len(fields)} fields, a CDR has 16 to 18")
        row = dict(zip(COLUMNS, fields))
        disposition = row["disposition"].strip().upper()
        if disposition not in DISPOSITIONS:
            raise Malformed(f"unknown disposition {row['disposition']!r}")
        src, dst = digits(row["src"]), digits(row["dst"])
        if not src:
            raise Malformed("src has no digits")
        start = _time(row["start"], source, "start", True)
        key = row.get("uniqueid") or ""
        if not key:
            key = "sha1:" + hashlib.sha1("\x1f".join(
                fields[k] for k in (1, 2, 5, 6, 9, 10, 11, 12, 13)).encode()).hexdigest()
        return Call(record.line, key[:64], src, dst, start,
                    _time(row["answer"], source, "answer", False),
                    _time(row["end"], source, "end", False),
                    _seconds(row["duration"], "duration"), _seconds(row["billsec"], "billsec"),
                    disposition)

    def store(self, batch: Batch, calls: list[Call | None]) -> list[str]:
        conn = batch.conn
        outcomes = [SKIPPED if c is None else DUPLICATE for c in calls]
        real = [(i, c, batch.day_of(c.start)) for i, c in enumerate(calls) if c is not None]
        found = holders(conn, voice_number, batch.module_id, {(c.src, d) for _, c, d in real})
        contracts = batch.lock(set(found.values()))
        batch.know_tariffs(set(contracts))
        known = self._known(batch, [c.call_key for _, c, _ in real])
        rows, added = [], {}
        seen = set()
        for i, call, day in real:
            contract_id = found.get((call.src, day))
            if contract_id is None or contract_id not in contracts:
                outcomes[i] = "unknown number"
                continue
            if call.call_key in known or call.call_key in seen:
                continue
            if day < contracts[contract_id].date_from:
                outcomes[i] = "before the contract began"
                continue
            if batch.closed(day):
                outcomes[i] = f"{day:%Y-%m} is closed"
                continue
            tariff = batch.tariff(contract_id, day, VoiceTariff)
            if tariff is None:
                outcomes[i] = f"no voice tariff on {day}"
                continue
            rated = rate(tariff, call.dst, call.disposition, call.billsec)
            if rated is None:
                outcomes[i] = f"no price for {call.dst}"
                continue
            if rated.cost and tariff.service_id is None:
                outcomes[i] = "the tariff names no service for calls"
                continue
            seen.add(call.call_key)
            rows.append({"module_id": batch.module_id, "call_key": call.call_key,
                         "contract_id": contract_id, "service_id": tariff.service_id,
                         "day": day, "start": call.start, "answer": call.answer,
                         "end": call.end, "src": call.src, "dst": call.dst,
                         "disposition": call.disposition, "duration": call.duration,
                         "billsec": call.billsec, "billed_seconds": rated.billed_seconds,
                         "prefix": rated.prefix, "price_min": rated.price_min,
                         "cost": rated.cost})
            if rated.cost:
                key = (contract_id, tariff.service_id, day)
                added[key] = added.get(key, ZERO) + rated.cost
            outcomes[i] = STORED
        if rows:
            insert_rows(conn, voice_call, tuple(rows[0]), rows)
        batch.add_usage(contracts, added)
        return outcomes

    @staticmethod
    def _known(batch: Batch, keys: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(keys), 500):
            known.update(batch.conn.execute(select(voice_call.c.call_key).where(
                voice_call.c.module_id == batch.module_id,
                voice_call.c.call_key.in_(keys[start:start + 500]))).scalars())
        return known

    @staticmethod
    def _totals(batch: Batch, touched: set[tuple[int, int, date]]
                ) -> dict[tuple[int, int, date], Decimal]:
        """What the calls of these contracts, services and days cost in all."""
        totals = dict.fromkeys(touched, Decimal("0.00"))
        keys = sorted(touched)
        for start in range(0, len(keys), 500):
            for contract_id, service_id, day, total in batch.conn.execute(
                    select(voice_call.c.contract_id, voice_call.c.service_id, voice_call.c.day,
                           func.sum(voice_call.c.cost)).where(
                        voice_call.c.module_id == batch.module_id,
                        tuple_(voice_call.c.contract_id, voice_call.c.service_id,
                               voice_call.c.day).in_(keys[start:start + 500]))
                    .group_by(voice_call.c.contract_id, voice_call.c.service_id,
                              voice_call.c.day)):
                totals[(contract_id, service_id, day)] = total
        return totals

    def rerate(self, batch: Batch, since: date, until: date, contract_id: int | None) -> int:
        """Price the calls of these days again; their days' usage becomes their sum."""
        conn = batch.conn
        query = select(voice_call).where(voice_call.c.module_id == batch.module_id,
                                         voice_call.c.day >= since, voice_call.c.day <= until)
        if contract_id is not None:
            query = query.where(voice_call.c.contract_id == contract_id)
        calls = conn.execute(query.order_by(voice_call.c.id)).all()
        old = usage_store.rows_between(conn, batch.module_id, since, until, contract_id)
        contracts = batch.lock({c.contract_id for c in calls} | {u["contract_id"] for u in old})
        touched = {(u["contract_id"], u["service_id"], u["date"]) for u in old}
        changed = 0
        for call in calls:
            tariff = batch.tariff(call.contract_id, call.day, VoiceTariff)
            rated = None if tariff is None else rate(tariff, call.dst, call.disposition,
                                                     call.billsec)
            service_id = tariff.service_id if tariff is not None else call.service_id
            if rated is None:  # no price any more: it costs nothing until one is set
                rated = rate(VoiceTariff(), call.dst, "FAILED", 0)
            values = {"billed_seconds": rated.billed_seconds, "prefix": rated.prefix,
                      "price_min": rated.price_min, "cost": rated.cost,
                      "service_id": service_id}
            if any(getattr(call, k) != v for k, v in values.items()):
                conn.execute(update(voice_call).where(voice_call.c.id == call.id)
                             .values(**values))
                changed += 1
            if service_id is not None:
                touched.add((call.contract_id, service_id, call.day))
        batch.set_usage(contracts, self._totals(batch, touched))
        return changed

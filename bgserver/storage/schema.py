"""The tables of the kernel and the processes. Modules add theirs to the same ``metadata``.

Alembic migrations in ``storage/migrations/versions`` create exactly this; a test compares the two on
SQLite and MariaDB.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer,
                        MetaData, String, Table, Text, UniqueConstraint)
from sqlalchemy.dialects import mysql

from bgserver.storage.types import Money, UtcDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

#: BIGINT on MySQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

operator = Table(
    "operator", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("login"),
)
#: Logins are unique regardless of case: on SQLite the migration makes this index compare
#: with NOCASE; MySQL/MariaDB's utf8mb4 collations compare without case anyway.
Index("uq_operator_login_nocase", operator.c.login, unique=True)

# Events committed with the change that caused them; the relay publishes them afterwards.
outbox = Table(
    "outbox", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("type", String(64), nullable=False),
    Column("contract_id", Integer, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("published_at", UtcDateTime, nullable=True),
    UniqueConstraint("event_id"),
    Index(None, "published_at", "id"),
)

# One row per lease name; the holder renews it, a standby takes it over when it lapses.
lease = Table(
    "lease", metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# A scheduled task: a task type (code) with its cron, params and module instance (data).
scheduler_task = Table(
    "scheduler_task", metadata,
    Column("id", Integer, primary_key=True),
    #: The task type's name: ``statuses.apply_due``, ``npay.charge``...
    Column("type", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    #: The module instance the task works on, for a module's task types.
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           nullable=True),
    #: Five-field cron in the billing time zone; None: run by hand only.
    Column("cron", String(100), nullable=True),
    #: JSON, checked against the task type's params model.
    Column("params", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    #: The latest cron time a run was queued for: the fire times after it are due.
    Column("fired_through", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# A run of a task: queued (by its cron or by hand), taken by the leading bgscheduler, done
# or failed; one task runs one at a time, oldest first.
scheduler_run = Table(
    "scheduler_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", Integer, ForeignKey("scheduler_task.id"), nullable=False),
    Column("type", String(100), nullable=False),
    #: ``queued``, ``running``, ``done``, ``failed``.
    Column("state", String(16), nullable=False),
    #: JSON: the task's params with the run's own over them, as validated.
    Column("params", Text, nullable=False),
    #: The cron time it was queued for (the time queued, for a run by hand).
    Column("scheduled_for", UtcDateTime, nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    #: The bgscheduler running it (or that ran it last).
    Column("holder", String(200), nullable=True),
    #: Times started: a run whose scheduler died is queued again, a few times at most.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("progress_done", BigInteger, nullable=True),
    Column("progress_total", BigInteger, nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Index(None, "state", "task_id"),
    Index(None, "task_id", "id"),
)


# -- operators, roles, sessions, API keys, audit --------------------------------------

role = Table(
    "role", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    #: A built-in role (admin) holds every permission, including ones added later.
    Column("builtin", Boolean, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("name"),
)

role_permission = Table(
    "role_permission", metadata,
    Column("role_id", Integer, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    Column("permission", String(64), primary_key=True),
)

operator_role = Table(
    "operator_role", metadata,
    Column("operator_id", Integer, ForeignKey("operator.id", ondelete="CASCADE"),
           primary_key=True),
    Column("role_id", Integer, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)

contract_group = Table(
    "contract_group", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(100), nullable=False),
    UniqueConstraint("title"),
)

# An operator with rows here sees only contracts in these groups; with none, all contracts.
operator_contract_group = Table(
    "operator_contract_group", metadata,
    Column("operator_id", Integer, ForeignKey("operator.id", ondelete="CASCADE"),
           primary_key=True),
    Column("group_id", Integer, ForeignKey("contract_group.id", ondelete="CASCADE"),
           primary_key=True),
)

auth_session = Table(
    "auth_session", metadata,
    Column("id", Integer, primary_key=True),
    #: SHA-256 of the token: the token itself is never stored.
    Column("token_hash", String(64), nullable=False),
    Column("operator_id", Integer, ForeignKey("operator.id", ondelete="CASCADE"),
           nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("address", String(64), nullable=True),
    UniqueConstraint("token_hash"),
    Index(None, "operator_id"),
)

api_key = Table(
    "api_key", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, ForeignKey("operator.id", ondelete="SET NULL"),
           nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    UniqueConstraint("key_hash"),
)

api_key_role = Table(
    "api_key_role", metadata,
    Column("api_key_id", Integer, ForeignKey("api_key.id", ondelete="CASCADE"),
           primary_key=True),
    Column("role_id", Integer, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)

login_attempt = Table(
    "login_attempt", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    #: ``operator`` or ``cabinet``.
    Column("realm", String(16), nullable=False),
    Column("login", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Index(None, "realm", "login", "at"),
    Index(None, "realm", "address", "at"),
)

audit = Table(
    "audit", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    #: ``operator``, ``api_key`` or ``system`` (a scheduler task, the loader).
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", Integer, nullable=True),
    Column("actor_name", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64), nullable=True),
    Column("contract_id", Integer, nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("address", String(64), nullable=True),
    Index(None, "contract_id", "id"),
    Index(None, "actor_type", "actor_id", "id"),
    Index(None, "at"),
)

# -- contracts -------------------------------------------------------------------------

contract = Table(
    "contract", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    #: ``person`` or ``company``.
    Column("person_type", String(16), nullable=False, server_default="person"),
    #: ``prepaid`` or ``postpaid``.
    Column("mode", String(16), nullable=False, server_default="prepaid"),
    Column("limit", Money(), nullable=False, server_default="0"),
    #: The current balance, kept with every movement for O(1) reads.
    Column("balance", Money(), nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=True),
    Column("comment", Text, nullable=False),
    Column("cabinet_password_hash", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("number"),
    Index(None, "title"),
)

contract_group_link = Table(
    "contract_group_link", metadata,
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    Column("group_id", Integer, ForeignKey("contract_group.id", ondelete="CASCADE"),
           primary_key=True),
    Index(None, "group_id", "contract_id"),
)

# Counters behind generated numbers (contract numbers per pattern and year...).
number_sequence = Table(
    "number_sequence", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)


def actor_columns(prefix: str = "") -> list[Column]:
    """Who did it: the audit's three columns, kept on rows whose author matters
    (required, but for a later act such as ``deleted_by_``)."""
    optional = bool(prefix)
    return [Column(f"{prefix}actor_type", String(16), nullable=optional),
            Column(f"{prefix}actor_id", Integer, nullable=True),
            Column(f"{prefix}actor_name", String(200), nullable=optional)]


# -- parameters ------------------------------------------------------------------------

param_definition = Table(
    "param_definition", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    #: text, int, decimal, date, flag, list, email, phone, address
    Column("type", String(16), nullable=False),
    #: For ``list``: the JSON array of allowed values.
    Column("options", Text, nullable=True),
    Column("cabinet_read", Boolean, nullable=False, server_default="0"),
    Column("cabinet_write", Boolean, nullable=False, server_default="0"),
    Column("history", Boolean, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("key"),
)

contract_param = Table(
    "contract_param", metadata,
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    Column("param_id", Integer, ForeignKey("param_definition.id", ondelete="CASCADE"),
           primary_key=True),
    #: The canonical text form of the value (JSON for an address).
    Column("value", Text, nullable=False),
    #: Lower-cased start of the value, indexed: what contract search matches by prefix.
    Column("search", String(191), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "search"),
)

#: A word of a contract's number, title or parameter values, folded to lower case
#: (``str.casefold``): contract search matches the start of any word by the index on
#: (word, contract_id). Binary comparison on MySQL, as on SQLite: words are folded in
#: Python, the same on both, and a prefix is a range of binary strings.
WordText = String(64).with_variant(mysql.VARCHAR(64, collation="utf8mb4_bin"), "mysql")

contract_word = Table(
    "contract_word", metadata,
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    #: ``number``, ``title`` or ``param:<param id>``: what the word was taken from, so
    #: that a change replaces that source's words only.
    Column("source", String(32), primary_key=True),
    Column("word", WordText, primary_key=True),
    Index(None, "word", "contract_id"),
)

contract_param_history = Table(
    "contract_param_history", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("param_id", Integer, ForeignKey("param_definition.id", ondelete="CASCADE"),
           nullable=False),
    #: None: the value was removed.
    Column("value", Text, nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
    *actor_columns(),
    Index(None, "contract_id", "param_id", "id"),
)

# -- statuses --------------------------------------------------------------------------

contract_status = Table(
    "contract_status", metadata,
    Column("id", Integer, primary_key=True),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    #: active, blocked, suspended, closed
    Column("status", String(16), nullable=False),
    #: For ``blocked``: ``balance`` or ``operator``.
    Column("reason", String(16), nullable=True),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=True),
    Column("comment", Text, nullable=False),
    #: False while a change waits for its date (applied by the scheduler on that day).
    Column("applied", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    *actor_columns(),
    Index(None, "contract_id", "date_from"),
    Index(None, "applied", "date_from"),
)

# -- module instances, services, tariff plans -------------------------------------------

# "Internet, Moscow" of type inet: the block that a module type's own tables hang on.
module_instance = Table(
    "module_instance", metadata,
    Column("id", Integer, primary_key=True),
    #: The module type's name (``npay``, ``rscm``, ``inet``, ``voice``).
    Column("type", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    #: JSON, checked against the module type's instance config model.
    Column("config", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# What a module instance sells: a monthly fee, a one-time service, traffic, calls.
service = Table(
    "service", metadata,
    Column("id", Integer, primary_key=True),
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           nullable=False),
    Column("title", String(200), nullable=False),
    #: What is counted: month, piece, MB, minute...
    Column("unit", String(32), nullable=False, server_default=""),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "module_id"),
)

tariff_plan = Table(
    "tariff_plan", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    #: The name subscribers see in the cabinet.
    Column("cabinet_title", String(200), nullable=False, server_default=""),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("title"),
)

# The contract groups whose subscribers may choose the plan in the cabinet.
tariff_plan_group = Table(
    "tariff_plan_group", metadata,
    Column("tariff_id", Integer, ForeignKey("tariff_plan.id", ondelete="CASCADE"),
           primary_key=True),
    Column("group_id", Integer, ForeignKey("contract_group.id", ondelete="CASCADE"),
           primary_key=True),
)

# A plan's config for one module instance, checked against its module type's model.
tariff_module = Table(
    "tariff_module", metadata,
    Column("tariff_id", Integer, ForeignKey("tariff_plan.id", ondelete="CASCADE"),
           primary_key=True),
    Column("module_id", Integer, ForeignKey("module_instance.id"), primary_key=True),
    Column("config", Text, nullable=False),
    Index(None, "module_id"),
)

# The plans a contract is on, each over dated days (``date_to`` None: open-ended).
contract_tariff = Table(
    "contract_tariff", metadata,
    Column("id", Integer, primary_key=True),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("tariff_id", Integer, ForeignKey("tariff_plan.id"), nullable=False),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=True),
    Column("comment", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    *actor_columns(),
    Index(None, "contract_id", "date_from"),
    Index(None, "tariff_id", "date_from"),
)

# -- money -----------------------------------------------------------------------------

payment_type = Table(
    "payment_type", metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("payment_type.id"), nullable=True),
    Column("title", String(100), nullable=False),
    #: The type of a payment posted without one.
    Column("is_default", Boolean, nullable=False, server_default="0"),
)

charge_type = Table(
    "charge_type", metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("charge_type.id"), nullable=True),
    Column("title", String(100), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="0"),
    #: Money given back to the subscriber, booked as a charge of this type.
    Column("refund", Boolean, nullable=False, server_default="0"),
)


def _movement(name: str, type_table: str, *extra: Column) -> Table:
    """Payments and charges: the same shape, each in its own table."""
    return Table(
        name, metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("contract_id", Integer, ForeignKey("contract.id"), nullable=False),
        Column("amount", Money(), nullable=False),
        Column("type_id", Integer, ForeignKey(f"{type_table}.id"), nullable=False),
        #: The billing day it counts for (may be back-dated into an open month).
        Column("date", Date, nullable=False),
        Column("comment", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        *actor_columns(),
        #: The id in the system it came from (a bank, a payment processor).
        Column("external_id", String(100), nullable=True),
        #: ``Idempotency-Key`` with the caller it belongs to and a hash of the request.
        Column("idempotency_scope", String(64), nullable=True),
        Column("idempotency_key", String(200), nullable=True),
        Column("request_hash", String(64), nullable=True),
        *extra,
        UniqueConstraint("type_id", "external_id"),
        UniqueConstraint("idempotency_scope", "idempotency_key"),
        Index(None, "contract_id", "date"),
    )


payment = _movement(
    "payment", "payment_type",
    Column("deleted_at", UtcDateTime, nullable=True),
    *actor_columns("deleted_by_"),
    Column("delete_reason", Text, nullable=True),
)

charge = _movement(
    "charge", "charge_type",
    #: A fee, an order or another charge of a module instance's service.
    Column("module_id", Integer, ForeignKey("module_instance.id"), nullable=True),
    Column("service_id", Integer, ForeignKey("service.id"), nullable=True),
)

# One row per contract and month: incoming + payments - charges - usage = outgoing, and
# the next month's incoming is this outgoing.
balance = Table(
    "balance", metadata,
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    #: The first day of the month.
    Column("month", Date, primary_key=True),
    Column("incoming", Money(), nullable=False),
    Column("payments", Money(), nullable=False),
    Column("charges", Money(), nullable=False),
    Column("usage", Money(), nullable=False),
    Column("outgoing", Money(), nullable=False),
)

# A closed month refuses back-dated movements (but to period.edit_closed).
period = Table(
    "period", metadata,
    #: The first day of the month.
    Column("month", Date, primary_key=True),
    Column("closed_at", UtcDateTime, nullable=False),
    *actor_columns(),
)

# A promised payment: a lower limit until a date, then the contract's own limit again.
temporary_limit = Table(
    "temporary_limit", metadata,
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    Column("limit", Money(), nullable=False),
    #: The last day the temporary limit holds.
    Column("until", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    *actor_columns(),
)

# Rated consumption, the third kind of movement: one row per contract, instance, service
# and day, added to as usage is loaded; only each change of its amount is booked.
usage = Table(
    "usage", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", Integer, ForeignKey("contract.id"), nullable=False),
    Column("module_id", Integer, ForeignKey("module_instance.id"), nullable=False),
    Column("service_id", Integer, ForeignKey("service.id"), nullable=False),
    #: The billing day the consumption happened on.
    Column("date", Date, nullable=False),
    Column("amount", Money(), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("contract_id", "module_id", "service_id", "date"),
    Index(None, "module_id", "date"),
)

# -- the loader --------------------------------------------------------------------------

# A stream of usage records of one format for one module instance: its files arrive in
# ``<loader.spool>/<name>/``.
loader_source = Table(
    "loader_source", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    #: ``freeradius-detail``, ``asterisk-csv``: a module type's loader format.
    Column("format", String(32), nullable=False),
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           nullable=False),
    #: Local times in the files are in this zone.
    Column("time_zone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("name"),
)

# A file of a source, known by its content: the same content under another name is the
# same file. A loader holds its claim while it loads and keeps ``position`` with each
# batch it stores, so that whoever takes the file over goes on from there.
loader_file = Table(
    "loader_file", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("loader_source.id", ondelete="CASCADE"),
           nullable=False),
    Column("name", String(255), nullable=False),
    #: SHA-256 of the content, hex.
    Column("checksum", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    #: ``loading``, ``done``.
    Column("state", String(16), nullable=False),
    Column("claimed_by", String(200), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    #: Bytes and lines of the file stored or quarantined so far.
    Column("position", BigInteger, nullable=False, server_default="0"),
    Column("lines", Integer, nullable=False, server_default="0"),
    Column("stored", Integer, nullable=False, server_default="0"),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Column("quarantined", Integer, nullable=False, server_default="0"),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    UniqueConstraint("source_id", "checksum"),
    Index(None, "state"),
)

# Records that could not be stored, with why; retried by ``bgbilling reprocess``.
quarantine = Table(
    "quarantine", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("loader_source.id", ondelete="CASCADE"),
           nullable=False),
    Column("file_id", BigId, ForeignKey("loader_file.id", ondelete="CASCADE"),
           nullable=False),
    #: The record's first line in the file.
    Column("line", Integer, nullable=False),
    Column("record", Text, nullable=False),
    #: ``malformed: ...``, ``unknown login``, ``before the contract began``...
    Column("reason", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    #: Set when a reprocess stored it.
    Column("resolved_at", UtcDateTime, nullable=True),
    UniqueConstraint("file_id", "line"),
    Index(None, "resolved_at", "id"),
)

# -- the subscriber cabinet ------------------------------------------------------------

# A subscriber signed in to the cabinet: one row per browser session, bound to its contract.
cabinet_session = Table(
    "cabinet_session", metadata,
    Column("id", Integer, primary_key=True),
    #: SHA-256 of the cookie's token: the token itself is never stored.
    Column("token_hash", String(64), nullable=False),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("address", String(64), nullable=True),
    UniqueConstraint("token_hash"),
    Index(None, "contract_id"),
)

# Promised payments a subscriber took in the cabinet: at most one per configured period.
promised_payment = Table(
    "promised_payment", metadata,
    Column("id", Integer, primary_key=True),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("amount", Money(), nullable=False),
    #: The last day the temporary limit holds.
    Column("until", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "contract_id", "created_at"),
)

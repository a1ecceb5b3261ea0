"""Permission names: the one list used by the server's routes, the client and the docs.

A route declares one of these, or :data:`AUTHENTICATED` (any signed-in caller: ``/me``,
logout), or :data:`PUBLIC` (only health and login).
"""

PERMISSIONS: dict[str, str] = {
    "contract.read": "see contracts, their parameters, money and usage",
    "contract.write": "create and change contracts, their groups and parameters",
    "payment.create": "take payments",
    "payment.delete": "delete payments (kept as deleted, with the reason)",
    "charge.create": "make charges",
    "tariff.write": "create and change tariff plans, assign them to contracts",
    "directory.write": "edit the global directories: contract groups, parameter "
                       "definitions, payment and charge types",
    "module.admin": "create module instances and their services",
    "scheduler.run": "see scheduler tasks and start them by hand",
    "scheduler.write": "create scheduler tasks, change their schedule and params",
    "loader.admin": "see loaded files and manage loader sources",
    "user.admin": "manage operators, roles and API keys",
    "audit.read": "read the audit log",
    "report.read": "read reports",
    "period.close": "close billing months",
    "period.edit_closed": "post back-dated movements into a closed month",
}

#: Any authenticated caller, whatever its roles.
AUTHENTICATED = "authenticated"
#: No authentication at all.
PUBLIC = "public"

#: What a read-only role for outside software holds.
READ_ONLY = frozenset({"contract.read", "report.read"})

"""The audit log: who changed what, newest first, in pages."""

from __future__ import annotations

from typing import Any

from bgtui.screens.contract import audit_row
from bgtui.screens.directories import DirectoryScreen, simple


@simple("audit", "view.audit", "audit.read")
class AuditLog(DirectoryScreen):
    columns = [("col.when", 16), ("col.author", 10), ("col.action", 18), ("col.contract", 8),
               ("col.object", 16)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.audit, None, cursor, 100)

    def row(self, entry: Any) -> list[Any]:
        when, author, action, obj = audit_row(entry)
        return [when, author, action, str(entry.contract_id or ""), obj]

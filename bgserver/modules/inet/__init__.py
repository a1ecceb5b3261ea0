"""inet: Internet access — logins, RADIUS sessions, priced by the byte and the second."""

from bgserver.modules import ModuleType
from bgserver.modules.inet.cabinet import SESSIONS
from bgserver.modules.inet.config import InetTariff

MODULE = ModuleType("inet", "Internet access", InetTariff, cabinet_pages=(SESSIONS,))

"""voice: telephony — phone numbers, PBX call records, priced by the callee's prefix."""

from bgserver.modules import ModuleType
from bgserver.modules.voice.cabinet import CALLS
from bgserver.modules.voice.config import VoiceTariff

MODULE = ModuleType("voice", "Telephony", VoiceTariff, cabinet_pages=(CALLS,))

"""npay: periodic fees — a monthly amount per service, charged by the day or in advance."""

from bgserver.modules import ModuleType
from bgserver.modules.npay.config import NpayInstance, NpayTariff
from bgserver.modules.npay.tables import npay_charge
from bgserver.modules.npay.tasks import CHARGE

MODULE = ModuleType("npay", "Periodic fees", NpayTariff, NpayInstance, tables=(npay_charge,),
                    task_types=(CHARGE,))

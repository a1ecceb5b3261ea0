"""bgtui screens, one file per area (module types add theirs under their own name).

Importing this package registers every view (see ``bgtui.views``)."""

from bgtui.screens import (accounts, admin, audit, contracts, directories, inet,  # noqa: F401
                           loader, modules, rscm, scheduler, status, tariffs, voice)

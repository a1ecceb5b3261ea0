"""bgtui screens, one file per area (module types add theirs under their own name).

Importing this package registers every view (see ``bgtui.views``)."""

from bgtui.screens import (admin, audit, contracts, directories, modules, rscm,  # noqa: F401
                           scheduler, status, tariffs)

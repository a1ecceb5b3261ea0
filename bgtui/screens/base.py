"""What every bgtui screen shares: translated bindings, actions offered only with the
operator's permission, and calls that end in a plain message, never a traceback."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.screen import ModalScreen, Screen

from bgtui.i18n import translate_bindings


class Offers:
    """Mixin: ``PERMISSIONS`` maps an action to the permission it needs; such an action is
    neither shown nor run for an operator without it, nor ever in read-only mode.
    ``READS`` lists actions that change nothing (offered in read-only mode too)."""

    PERMISSIONS: ClassVar[dict[str, str | None]] = {}
    READS: ClassVar[frozenset[str]] = frozenset()

    def _translate(self) -> None:
        translate_bindings(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.PERMISSIONS:
            return self.app.can(self.PERMISSIONS[action], change=action not in self.READS)
        return True

    def offers(self, action: str) -> bool:
        return bool(self.check_action(action, ()))


class BgScreen(Offers, Screen):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._translate()


class BgModal(Offers, ModalScreen):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._translate()

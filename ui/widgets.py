"""Small widgets the views share: a label that elides instead of cutting, and a number
field that shows out-of-range input as an error instead of silently replacing it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QSizePolicy


class ElidedLabel(QLabel):
    """One line of text that shrinks with "…" where it would be cut, full text on hover.

    A plain ``QLabel`` with an ``Ignored`` size policy clips mid-letter ("Marble Drea");
    this one paints the elided text and keeps the whole of it in the tooltip.
    """

    def __init__(
        self,
        text: str = "",
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
        parent: Any = None,
    ) -> None:
        super().__init__(text, parent)
        self._mode = mode
        self._extra_tip = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tip()

    def set_extra_tip(self, tip: str) -> None:
        """More to say on hover (e.g. why a track was picked), after the full text."""
        self._extra_tip = tip
        self._update_tip()

    def _update_tip(self) -> None:
        parts = [p for p in (self.text(), self._extra_tip) if p]
        self.setToolTip("\n".join(parts))

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().horizontalAdvance("…") * 3, hint.height())

    def elided(self) -> str:
        """The text as painted at the current width."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), self._mode, width)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.setFont(self.font())
        painter.drawText(
            self.contentsRect(),
            int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
            self.elided(),
        )


class NumberField(QLineEdit):
    """A number typed as text and checked against a range, never clamped behind the
    listener's back: ``5`` in a 10–900 field stays ``5`` and the field says why it is
    refused, where a ``QSpinBox`` would quietly turn it into 10 (or restore the old value).
    """

    #: the error text ("" when the value is fine).
    validity_changed = Signal(str)

    def __init__(
        self,
        what: str,
        minimum: float,
        maximum: float,
        value: float,
        *,
        unit: str = "",
        decimals: int = 0,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.what, self.minimum, self.maximum = what, minimum, maximum
        self.unit, self.decimals = unit, decimals
        self.error = ""
        self.setMaximumWidth(140)
        self.setAccessibleName(what)
        self.setValue(value)
        self.textChanged.connect(self._check)
        self.setToolTip(f"{self._fmt(minimum)} to {self._fmt(maximum)}{self._unit()}")

    def _unit(self) -> str:
        return f" {self.unit}" if self.unit else ""

    def _fmt(self, value: float) -> str:
        return f"{value:.{self.decimals}f}" if self.decimals else str(int(value))

    def setValue(self, value: float) -> None:
        self.setText(self._fmt(value))
        self._check()

    def value(self) -> float | None:
        """The number typed, or None when it is not a number in range."""
        text = self.text().strip().replace(",", ".")
        try:
            number = float(text) if self.decimals else int(text)
        except ValueError:
            return None
        return number if self.minimum <= number <= self.maximum else None

    def _check(self) -> None:
        text = self.text().strip()
        error = ""
        if self.value() is None:
            span = f"{self._fmt(self.minimum)} to {self._fmt(self.maximum)}{self._unit()}"
            if not text:
                error = f"{self.what}: enter a number from {span}."
            else:
                try:
                    float(text.replace(",", "."))
                except ValueError:
                    error = f"{self.what}: {text!r} is not a number; enter one from {span}."
                else:
                    error = f"{self.what} must be from {span}; {text} is out of range."
        if error != self.error:
            self.error = error
            self.setProperty("invalid", bool(error))
            self.style().unpolish(self)
            self.style().polish(self)
            self.validity_changed.emit(error)

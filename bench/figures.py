"""One measured figure, with an optional target it must meet."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.higher_is_better:
            return self.value >= self.target
        return self.value <= self.target

    def __str__(self) -> str:
        text = f"{self.name}: {self.value:,.2f} {self.unit}"
        if self.target is not None:
            sign = ">=" if self.higher_is_better else "<="
            verdict = "ok" if self.met else "MISSED"
            text += f"  (target {sign} {self.target:,g} {self.unit}: {verdict})"
        if self.note:
            text += f"  [{self.note}]"
        return text

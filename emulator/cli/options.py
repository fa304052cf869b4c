"""Option types shared by ``seglike generate`` and ``seglike send``."""

from __future__ import annotations

import math
from typing import Any

import click


class Share(click.FloatRange):
    """A share between 0 and 1; ``nan`` compares false both ways, so say no."""

    name = "share"

    def __init__(self) -> None:
        super().__init__(0.0, 1.0)

    def convert(self, value: Any, param, ctx) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number between 0 and 1.", param, ctx)
        return number

"""The mapping kit's error, carrying the real kit's messages."""

from __future__ import annotations


class MappingError(ValueError):
    """A mapping the real kit rejects, or a directive that fails on the data.

    ``messages`` holds every message the real kit would report (validation
    collects all of a mapping's problems at once); ``str(error)`` joins them
    with newlines.  ``name`` is the JS error class: ``ValidationError`` (one
    validation problem; the destination kit answers 400 for it),
    ``AggregateError`` (several), ``Error`` (a directive failing at run time).
    """

    def __init__(self, messages: str | list[str], name: str = "Error") -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.name = name
        super().__init__("\n".join(self.messages))

    @property
    def message(self) -> str:
        return str(self)

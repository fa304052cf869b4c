"""The ``destinations`` of each source, and the ``delivery`` timing, in the stack
configuration.

A source's destination names its definition (``livelike-cloud``), its settings,
the presets switched on (all of them when the key is absent, as when a user adds
the destination in Segment's UI) and extra subscriptions with their own FQL and
mapping. Everything is checked here so that a bad file fails at start with the
JSON path of the bad value, not at the first event.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_DESTINATION_KEYS = {
    "destination",
    "name",
    "enabled",
    "settings",
    "presets",
    "subscriptions",
}
_SUBSCRIPTION_KEYS = {"name", "action", "subscribe", "mapping", "enabled"}


@dataclass(frozen=True)
class Subscription:
    """One action of a destination, the FQL that triggers it and its mapping."""

    name: str
    action: str
    subscribe: str
    mapping: dict[str, Any]
    preset: bool = False

    @property
    def batch_size(self) -> int:
        """How many events one request may carry (1 unless the action batches)."""
        if self.mapping.get("enable_batching") is False:
            return 1
        size = self.mapping.get("batch_size", 100)
        return int(size) if isinstance(size, int | float) else 100


@dataclass(frozen=True)
class DestinationConfig:
    """A destination connected to one source."""

    destination: str
    name: str
    settings: dict[str, Any]
    subscriptions: tuple[Subscription, ...] = ()
    enabled: bool = True

    @property
    def definition(self):
        from emulator.actions.livelike_cloud import get_destination

        return get_destination(self.destination)


# counted delivery settings and their largest sensible value
_COUNTS = {"max_attempts": 1000, "read_batch": 10000}


@dataclass(frozen=True)
class DeliverySettings:
    """Retry timing of the delivery worker (Segment's values by default).

    Segment retries a failed destination call for up to four hours with
    exponential backoff; tests shrink every number here.
    """

    max_attempts: int = 10
    max_age_seconds: float = 4 * 3600.0
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 60.0
    retry_after_max_seconds: float = 300.0
    timeout_seconds: float = 10.0
    read_batch: int = 500

    @classmethod
    def from_dict(cls, raw: Any, path: str = "$.delivery") -> DeliverySettings:
        from emulator.config import ConfigError

        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError(f"delivery must be a mapping, not {raw!r}", path=path)

        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in cls.__dataclass_fields__:
                known = ", ".join(cls.__dataclass_fields__)
                raise ConfigError(
                    f"unknown delivery setting {key!r} (known: {known})",
                    path=f"{path}.{key}",
                )
            counted = key in _COUNTS
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
                or (counted and (not float(value).is_integer() or value > _COUNTS[key]))
            ):
                what = "a positive number"
                if counted:
                    what += f" (a whole number up to {_COUNTS[key]})"
                raise ConfigError(
                    f"{key} must be {what}, not {value!r}", path=f"{path}.{key}"
                )
            values[key] = int(value) if counted else float(value)
        return cls(**values)


def parse_destinations(raw: Any, path: str) -> list[DestinationConfig]:
    """Parse and check a source's list of destinations."""
    from emulator.config import ConfigError

    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"destinations must be a list, not {raw!r}", path=path)

    parsed = [_destination(item, f"{path}[{index}]") for index, item in enumerate(raw)]
    names = [d.name for d in parsed]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ConfigError(
                f"two destinations are named {name!r}; give one a 'name'",
                path=f"{path}[{index}].name",
            )
    return parsed


def _destination(raw: Any, path: str) -> DestinationConfig:
    from emulator.actions.livelike_cloud import DESTINATIONS
    from emulator.config import ConfigError

    if not isinstance(raw, dict):
        raise ConfigError(f"a destination must be a mapping, not {raw!r}", path=path)
    _no_unknown_keys(raw, _DESTINATION_KEYS, path)

    slug = raw.get("destination")
    definition = DESTINATIONS.get(slug) if isinstance(slug, str) else None
    if definition is None:
        known = ", ".join(sorted(DESTINATIONS))
        raise ConfigError(
            f"unknown destination {slug!r} (known: {known})", path=f"{path}.destination"
        )

    name = raw.get("name", definition.name)
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"name must be a non-empty string, not {name!r}", path=f"{path}.name"
        )
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        raise ConfigError(
            f"settings must be a mapping, not {settings!r}", path=f"{path}.settings"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(
            f"enabled must be true or false, not {enabled!r}", path=f"{path}.enabled"
        )

    extra = raw.get("subscriptions") or []
    if not isinstance(extra, list):
        raise ConfigError(
            f"subscriptions must be a list, not {extra!r}", path=f"{path}.subscriptions"
        )
    subscriptions = _presets(raw, definition, path)
    for index, item in enumerate(extra):
        subscription = _subscription(item, definition, f"{path}.subscriptions[{index}]")
        if subscription is not None:
            subscriptions.append(subscription)

    seen: set[str] = set()
    for subscription in subscriptions:
        if subscription.name in seen:
            raise ConfigError(
                f"two subscriptions are named {subscription.name!r}", path=path
            )
        seen.add(subscription.name)

    return DestinationConfig(
        destination=definition.slug,
        name=name,
        settings=dict(settings),
        subscriptions=tuple(subscriptions),
        enabled=enabled,
    )


def _presets(raw: dict[str, Any], definition, path: str) -> list[Subscription]:
    from emulator.config import ConfigError

    names = raw.get("presets", [p.name for p in definition.presets])
    if not isinstance(names, list):
        raise ConfigError(
            f"presets must be a list of preset names, not {names!r}",
            path=f"{path}.presets",
        )

    out = []
    for index, name in enumerate(names):
        preset = definition.preset(name) if isinstance(name, str) else None
        if preset is None:
            known = ", ".join(repr(p.name) for p in definition.presets)
            raise ConfigError(
                f"unknown preset {name!r} of {definition.name} (known: {known})",
                path=f"{path}.presets[{index}]",
            )
        out.append(
            Subscription(
                name=preset.name,
                action=preset.action,
                subscribe=preset.subscribe,
                mapping=dict(preset.mapping),
                preset=True,
            )
        )
    return out


def _subscription(raw: Any, definition, path: str) -> Subscription | None:
    from emulator.config import ConfigError

    if not isinstance(raw, dict):
        raise ConfigError(f"a subscription must be a mapping, not {raw!r}", path=path)
    _no_unknown_keys(raw, _SUBSCRIPTION_KEYS, path)

    action = definition.actions.get(raw.get("action"))
    if action is None:
        known = ", ".join(definition.actions)
        raise ConfigError(
            f"unknown action {raw.get('action')!r} of {definition.name}"
            f" (known: {known})",
            path=f"{path}.action",
        )
    name = raw.get("name", action.title)
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"name must be a non-empty string, not {name!r}", path=f"{path}.name"
        )

    subscribe = raw.get("subscribe", action.default_subscription)
    _check_fql(subscribe, f"{path}.subscribe")

    mapping_ = raw.get("mapping") or {}
    if not isinstance(mapping_, dict):
        raise ConfigError(
            f"mapping must be a mapping, not {mapping_!r}", path=f"{path}.mapping"
        )
    merged = {**action.default_mapping(), **mapping_}
    _check_mapping(merged, f"{path}.mapping")
    _check_batch_size(merged, f"{path}.mapping.batch_size")

    if raw.get("enabled", True) is False:
        return None
    return Subscription(
        name=name, action=action.slug, subscribe=subscribe, mapping=merged
    )


def _check_fql(subscribe: Any, path: str) -> None:
    from emulator.actions import fql
    from emulator.config import ConfigError

    if not isinstance(subscribe, str) or not subscribe.strip():
        raise ConfigError(
            f"subscribe must be an FQL expression, not {subscribe!r}", path=path
        )
    try:
        fql.parse(subscribe)
    except fql.FqlError as error:
        detail = f" ({error.detail})" if error.detail else ""
        raise ConfigError(
            f"invalid subscription {subscribe!r}; the real service reports"
            f" 'Invalid subscription : {error.message}'{detail}",
            path=path,
        ) from None


def _check_mapping(mapping_: dict[str, Any], path: str) -> None:
    from emulator.actions import mapping
    from emulator.config import ConfigError

    try:
        mapping.validate(mapping_)
    except mapping.MappingError as error:
        raise ConfigError(f"invalid mapping: {error}", path=path) from None


def _check_batch_size(mapping_: dict[str, Any], path: str) -> None:
    from emulator.config import ConfigError

    size = mapping_.get("batch_size")
    if size is None or isinstance(size, dict):
        return
    if (
        isinstance(size, bool)
        or not isinstance(size, int | float)
        or not 1 <= size <= 500
    ):
        raise ConfigError(
            f"batch_size must be a number from 1 to 500, not {size!r}", path=path
        )


def _no_unknown_keys(raw: dict[str, Any], known: set[str], path: str) -> None:
    from emulator.config import ConfigError

    for key in raw:
        if key not in known:
            raise ConfigError(
                f"unknown key {key!r} (known: {', '.join(sorted(known))})",
                path=f"{path}.{key}",
            )

"""The stack configuration: one YAML file for every service of ``seglike up``.

Each component parses its own section (``emulator.segment.config``,
``emulator.actions.config``, ``emulator.livelike.config``); this module only reads
the file, hands each section to its owner and reports errors with the file and
the JSON path of the bad value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.resources import fixtures_dir

DEFAULT_CONFIG_NAME = "stack.yaml"

# The top-level keys of a stack configuration; each has one owner.
SECTIONS = ("segment", "sources", "delivery", "livelike", "faults", "demo")


class ConfigError(ValueError):
    """A stack configuration that cannot be used; says where and why."""

    def __init__(self, message: str, *, path: str = "$", file: Path | None = None):
        self.reason = message
        self.path = path
        self.file = file
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{path}: {message}")


def default_config_path() -> Path:
    return fixtures_dir() / DEFAULT_CONFIG_NAME


@dataclass
class StackConfig:
    """Every section of a stack configuration, parsed."""

    segment: Any
    destinations: dict[str, list[Any]] = field(default_factory=dict)
    livelike: Any = None
    raw: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None


def load_config(path: str | Path | None = None) -> StackConfig:
    """Read and parse the stack configuration at *path* (default: the fixture)."""
    file = Path(path) if path else default_config_path()
    try:
        raw = yaml.safe_load(file.read_text()) or {}
    except OSError as error:
        raise ConfigError(
            f"cannot read the file: {error.strerror}", file=file
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"not UTF-8 text ({error.reason} at byte {error.start})", file=file
        ) from None
    except RecursionError:
        raise ConfigError("not usable YAML: nested too deeply", file=file) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", file=file) from None
    except ValueError:  # an integer with more digits than Python will convert
        raise ConfigError("not usable YAML: a number is too long", file=file) from None

    if isinstance(raw, dict):
        _anchor_plan_paths(raw, file.parent)
    try:
        config = parse_config(raw)
    except ConfigError as error:
        raise ConfigError(error.reason, path=error.path, file=file) from None
    config.file = file
    return config


def _anchor_plan_paths(raw: dict[str, Any], folder: Path) -> None:
    """Read a source's relative ``tracking_plan`` from the config file's folder.

    A user writes paths relative to the file they are editing, not to wherever
    ``seglike up`` happens to be started; shipped plan names are left alone.
    """
    for source in raw.get("sources") or []:
        if not isinstance(source, dict):
            continue
        reference = source.get("tracking_plan")
        if not isinstance(reference, str) or Path(reference).is_absolute():
            continue
        candidate = folder / reference
        if candidate.is_file():
            source["tracking_plan"] = str(candidate.resolve())


def parse_config(raw: Any) -> StackConfig:
    """Parse an already-loaded configuration mapping."""
    from emulator.actions.config import DeliverySettings, parse_destinations
    from emulator.livelike.config import LiveLikeConfig
    from emulator.segment.config import SegmentConfig
    from emulator.web.faults import rules_from_config

    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a mapping", path="$")
    unknown = sorted(str(key) for key in raw if key not in SECTIONS)
    if unknown:
        raise ConfigError(
            f"unknown section(s) {', '.join(map(repr, unknown))}; "
            f"a stack configuration has {', '.join(SECTIONS)}",
            path="$",
        )

    segment = SegmentConfig.from_dict(raw, path="$")
    destinations = {
        source.name: parse_destinations(
            source.raw.get("destinations", []), path=f"$.sources[{index}].destinations"
        )
        for index, source in enumerate(segment.sources)
    }
    livelike = LiveLikeConfig.from_dict(raw.get("livelike") or {}, path="$.livelike")
    DeliverySettings.from_dict(raw.get("delivery"))  # a bad value fails at load time
    for service in ("segment", "livelike"):  # a bad fault rule fails at load time
        rules_from_config(raw, service)
    return StackConfig(
        segment=segment, destinations=destinations, livelike=livelike, raw=raw
    )

"""The ``segment`` and ``sources`` sections of the stack configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEDUPE_SCOPES = ("global", "source")

# A typo (``mesage_bytes``) must fail loudly, not leave the default in place.
SOURCE_KEYS = (
    "name",
    "write_key",
    "strict",
    "tracking_plan",
    "protocols",
    "destinations",
)
SEGMENT_KEYS = ("limits", "dedupe_window_seconds", "dedupe_scope", "max_messages")


@dataclass
class SourceConfig:
    """A Segment source: a name and the write key SDKs authenticate with."""

    name: str
    write_key: str
    strict: bool = False
    tracking_plan: str | None = None  # a plan file or a shipped plan name
    protocols: Any = None  # emulator.contracts.protocols.Controls
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Limits:
    """Size limits of the Tracking API, measured on the inflated body."""

    message_bytes: int = 32768
    request_bytes: int = 512000
    batch_messages: int = 2500


@dataclass
class SegmentConfig:
    sources: list[SourceConfig] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    dedupe_window_seconds: int = 86400
    dedupe_scope: str = "global"
    max_messages: int = 100000

    def source_by_key(self, write_key: str) -> SourceConfig | None:
        for source in self.sources:
            if source.write_key == write_key:
                return source
        return None

    def source_by_name(self, name: str) -> SourceConfig | None:
        for source in self.sources:
            if source.name == name:
                return source
        return None

    @classmethod
    def from_dict(cls, raw: dict[str, Any], path: str = "$") -> SegmentConfig:
        from emulator.config import ConfigError
        from emulator.segment.auth import MIN_WRITE_KEY_LENGTH

        sources = []
        listed = raw.get("sources")
        listed = [] if listed is None else listed
        if not isinstance(listed, list):
            raise ConfigError(
                f"'sources' must be a list of sources, not {listed!r}",
                path=f"{path}.sources",
            )
        for index, item in enumerate(listed):
            where = f"{path}.sources[{index}]"
            if not isinstance(item, dict):
                raise ConfigError("a source must be a mapping", path=where)
            _known_keys(item, SOURCE_KEYS, where)
            for key in ("name", "write_key"):
                if not isinstance(item.get(key), str) or not item[key]:
                    raise ConfigError(f"{key!r} must be a non-empty string", path=where)
            if len(item["write_key"]) < MIN_WRITE_KEY_LENGTH:
                # ingestion refuses such a key as malformed: no SDK could use it
                raise ConfigError(
                    f"the write key {item['write_key']!r} is shorter than "
                    f"{MIN_WRITE_KEY_LENGTH} characters, which ingestion refuses",
                    path=f"{where}.write_key",
                )
            if not isinstance(item.get("strict", False), bool):
                raise ConfigError(
                    f"'strict' must be true or false, not {item['strict']!r}",
                    path=f"{where}.strict",
                )
            from emulator.contracts.protocols import parse_source_protocols

            tracking_plan, protocols = parse_source_protocols(item, where)
            sources.append(
                SourceConfig(
                    name=item["name"],
                    write_key=item["write_key"],
                    strict=bool(item.get("strict", False)),
                    tracking_plan=tracking_plan,
                    protocols=protocols,
                    raw=item,
                )
            )
        _check_unique(sources, path)

        section = raw.get("segment")
        section = {} if section is None else section
        where = f"{path}.segment"
        if not isinstance(section, dict):
            raise ConfigError("the segment section must be a mapping", path=where)
        _known_keys(section, SEGMENT_KEYS, where)
        limits_raw = section.get("limits")
        limits_raw = {} if limits_raw is None else limits_raw
        if not isinstance(limits_raw, dict):
            raise ConfigError("'limits' must be a mapping", path=f"{where}.limits")
        _known_keys(limits_raw, tuple(vars(Limits())), f"{where}.limits")
        limits = Limits(
            **{
                name: _positive_int(limits_raw, name, default, f"{where}.limits")
                for name, default in vars(Limits()).items()
            }
        )

        scope = section.get("dedupe_scope", "global")
        if scope not in DEDUPE_SCOPES:
            raise ConfigError(
                f"'dedupe_scope' must be one of {', '.join(DEDUPE_SCOPES)}, "
                f"not {scope!r}",
                path=f"{where}.dedupe_scope",
            )
        return cls(
            sources=sources,
            limits=limits,
            dedupe_window_seconds=_positive_int(
                section, "dedupe_window_seconds", 86400, where, allow_zero=True
            ),
            dedupe_scope=scope,
            max_messages=_positive_int(section, "max_messages", 100000, where),
        )


def _known_keys(section: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    from emulator.config import ConfigError

    for key in section:
        if key not in known:
            raise ConfigError(
                f"unknown key {key!r}; the known keys are {', '.join(known)}",
                path=f"{where}.{key}",
            )


def _positive_int(
    section: dict[str, Any],
    name: str,
    default: int,
    where: str,
    allow_zero: bool = False,
) -> int:
    from emulator.config import ConfigError

    value = section.get(name, default)
    smallest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise ConfigError(
            f"{name!r} must be an integer >= {smallest}, not {value!r}",
            path=f"{where}.{name}",
        )
    return value


def _check_unique(sources: list[SourceConfig], path: str) -> None:
    """Two sources with one write key would make ingestion ambiguous."""
    from emulator.config import ConfigError

    seen_names: set[str] = set()
    seen_keys: set[str] = set()
    for index, source in enumerate(sources):
        if source.name in seen_names:
            raise ConfigError(
                f"the source name {source.name!r} is used twice",
                path=f"{path}.sources[{index}].name",
            )
        if source.write_key in seen_keys:
            raise ConfigError(
                f"the write key of source {source.name!r} is already used by "
                "another source",
                path=f"{path}.sources[{index}].write_key",
            )
        seen_names.add(source.name)
        seen_keys.add(source.write_key)

"""The ``livelike`` section of the stack configuration.

Applications and their rewards set-up are configuration, not state: they are read
once from the YAML and never change while the stack runs, so ``reset`` can wipe
every table and still leave a working application behind.  Ids not given in the
YAML are derived (UUIDv5) from the application and the entity's name, which keeps
them stable across restarts and lets a test compute them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

NAMESPACE = uuid.UUID("6b1c6f44-2f5e-4d0e-9a39-5e3f3c1a7a11")

MAX_CUSTOM_ID_CHARS = 255  # LiveLike's profile custom_id

LIMIT_UNITS = ("second", "minute", "hour", "day", "week", "month")

# LiveLike's built-in reward actions (key, name); every application has them.
BUILT_IN_ACTIONS = (
    ("ask-replied", "Ask Replied"),
    ("prediction-made", "Prediction Made"),
    ("prediction-correct", "Prediction Correct"),
    ("quiz-answered", "Quiz Answered"),
    ("quiz-correct", "Quiz Correct"),
    ("poll-voted", "Poll Voted"),
)


# The keys each mapping of the section may have; anything else is a ConfigError.
SECTION_KEYS = frozenset({"source", "applications", "faults"})
SOURCE_KEYS = frozenset({"write_key", "batch_size", "max_backoff_seconds"})
APPLICATION_KEYS = frozenset(
    {
        "client_id",
        "name",
        "producer_tokens",
        "client_secret",
        "default_program_id",
        "auto_quest_processing",
        "auto_claim_quest_rewards",
        "webhook",
        "reward_items",
        "reward_actions",
        "reward_tables",
        "badges",
        "quests",
        "leaderboards",
        "profile_groups",
        "profiles",
    }
)
ITEM_KEYS = frozenset({"id", "name"})
ACTION_KEYS = frozenset({"id", "name", "key", "description"})
TABLE_KEYS = frozenset({"id", "name", "program_ids", "entries"})
ENTRY_KEYS = frozenset(
    {"id", "action", "reward_item", "amount", "rate_limit", "reward_limit"}
)
LIMIT_KEYS = frozenset({"count", "per", "timezone"})
BADGE_KEYS = frozenset(
    {"id", "name", "description", "image_url", "reward_item", "threshold"}
)
GROUP_KEYS = frozenset({"id", "name", "segment_audience_id", "custom_id", "is_active"})
QUEST_KEYS = frozenset(
    {
        "id",
        "name",
        "description",
        "tasks",
        "rewards",
        "badges",
        "profile_groups",
        "started_at",
        "stopped_at",
    }
)
TASK_KEYS = frozenset({"id", "name", "action", "target_value", "increment"})
QUEST_REWARD_KEYS = frozenset({"reward_item", "amount"})
BOARD_KEYS = frozenset({"id", "name", "reward_item", "program_ids", "is_locked"})
PROFILE_KEYS = frozenset({"id", "custom_id", "nickname"})
WEBHOOK_KEYS = frozenset({"url", "secret"})


def slugify(name: str) -> str:
    """Turn an event name into a reward action key: ``Poll Voted`` → ``poll-voted``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def derived_id(client_id: str, kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{client_id}/{kind}/{name}"))


@dataclass
class RewardItem:
    id: str
    name: str


@dataclass
class RewardAction:
    id: str
    key: str
    name: str
    description: str | None = None
    type: str = "custom"


@dataclass
class Limit:
    """``count`` rewards per ``unit`` (rate: rolling window; reward: calendar)."""

    count: int
    unit: str
    timezone: str = "UTC"


@dataclass
class RewardTableEntry:
    id: str
    action_key: str
    reward_item_id: str
    amount: int
    rate_limit: Limit | None = None
    reward_limit: Limit | None = None


@dataclass
class RewardTable:
    id: str
    name: str
    program_ids: list[str]
    entries: list[RewardTableEntry] = field(default_factory=list)


@dataclass
class Badge:
    id: str
    name: str
    description: str | None = None
    image_url: str | None = None
    reward_item_id: str | None = None
    reward_item_threshold: int | None = None


@dataclass
class QuestTask:
    id: str
    name: str
    target_value: int
    default_progress_increment: int = 1
    linked_action_key: str | None = None


@dataclass
class QuestReward:
    id: str
    reward_item_id: str
    amount: int


@dataclass
class Quest:
    id: str
    name: str
    tasks: list[QuestTask]
    rewards: list[QuestReward] = field(default_factory=list)
    badge_ids: list[str] = field(default_factory=list)
    profile_group_ids: list[str] = field(default_factory=list)
    started_at: str | None = None
    stopped_at: str | None = None
    description: str | None = None


@dataclass
class Leaderboard:
    id: str
    name: str
    reward_item_id: str
    program_ids: list[str]
    is_locked: bool = False


@dataclass
class ProfileGroup:
    id: str
    name: str
    segment_audience_id: str | None = None
    custom_id: str | None = None
    is_active: bool = True


@dataclass
class SeedProfile:
    id: str
    custom_id: str | None = None
    nickname: str | None = None


@dataclass
class Webhook:
    url: str
    secret: str


@dataclass
class Application:
    client_id: str
    name: str
    producer_tokens: list[str]
    default_program_id: str
    client_secret: str = ""
    auto_quest_processing: bool = True
    auto_claim_quest_rewards: bool = True
    webhook: Webhook | None = None
    reward_items: list[RewardItem] = field(default_factory=list)
    reward_actions: list[RewardAction] = field(default_factory=list)
    reward_tables: list[RewardTable] = field(default_factory=list)
    badges: list[Badge] = field(default_factory=list)
    quests: list[Quest] = field(default_factory=list)
    leaderboards: list[Leaderboard] = field(default_factory=list)
    profile_groups: list[ProfileGroup] = field(default_factory=list)
    profiles: list[SeedProfile] = field(default_factory=list)

    def item(self, item_id: str) -> RewardItem | None:
        return next((i for i in self.reward_items if i.id == item_id), None)

    def badge(self, badge_id: str) -> Badge | None:
        return next((b for b in self.badges if b.id == badge_id), None)

    def quest(self, quest_id: str) -> Quest | None:
        return next((q for q in self.quests if q.id == quest_id), None)


@dataclass
class SourceSettings:
    """Where LiveLike's own events go: a Segment source's write key."""

    write_key: str | None = None
    batch_size: int = 100
    max_backoff_seconds: float = 60.0


@dataclass
class LiveLikeConfig:
    applications: list[Application] = field(default_factory=list)
    source: SourceSettings = field(default_factory=SourceSettings)
    raw: dict[str, Any] = field(default_factory=dict)

    def application(self, client_id: str) -> Application | None:
        return next((a for a in self.applications if a.client_id == client_id), None)

    def application_for_token(self, token: str) -> Application | None:
        return next((a for a in self.applications if token in a.producer_tokens), None)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], path: str = "$.livelike") -> LiveLikeConfig:
        if not isinstance(raw, dict):
            _fail("the livelike section must be a mapping", path)
        _known(raw, SECTION_KEYS, path)

        source_raw = raw.get("source") or {}
        _mapping(source_raw, f"{path}.source")
        _known(source_raw, SOURCE_KEYS, f"{path}.source")
        source = SourceSettings(
            write_key=_opt_str(source_raw, "write_key", f"{path}.source"),
            batch_size=_int(source_raw, "batch_size", f"{path}.source", default=100),
            max_backoff_seconds=float(
                _number(source_raw, "max_backoff_seconds", f"{path}.source", 60.0)
            ),
        )

        apps_raw = raw.get("applications") or []
        if not isinstance(apps_raw, list):
            _fail("applications must be a list", f"{path}.applications")
        applications = [
            _application(item, f"{path}.applications[{index}]")
            for index, item in enumerate(apps_raw)
        ]
        seen: set[str] = set()
        for index, app in enumerate(applications):
            if app.client_id in seen:
                _fail(
                    f"client_id {app.client_id!r} is configured twice",
                    f"{path}.applications[{index}].client_id",
                )
            seen.add(app.client_id)
        return cls(applications=applications, source=source, raw=raw)


def _fail(message: str, path: str):
    from emulator.config import ConfigError

    raise ConfigError(message, path=path)


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(f"expected a mapping, got {value!r}", path)
    return value


def _known(raw: dict[str, Any], known: frozenset[str], path: str) -> None:
    """A misspelt key would otherwise be ignored and its setting silently lost."""
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        _fail(
            f"unknown key {unknown[0]!r}; known keys are {sorted(known)}",
            f"{path}.{unknown[0]}",
        )


def _entry(raw: Any, known: frozenset[str], path: str) -> dict[str, Any]:
    _known(_mapping(raw, path), known, path)
    return raw


def _list(raw: dict[str, Any], key: str, path: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        _fail(f"{key} must be a list, got {value!r}", f"{path}.{key}")
    return value


def _str(raw: dict[str, Any], key: str, path: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        _fail(f"{key!r} must be a non-empty string, got {value!r}", f"{path}.{key}")
    return value


def _opt_str(raw: dict[str, Any], key: str, path: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        _fail(f"{key!r} must be a non-empty string, got {value!r}", f"{path}.{key}")
    return value


def _opt_moment(raw: dict[str, Any], key: str, path: str) -> str | None:
    """An ISO-8601 moment (YAML may already have parsed it) as UTC ``...Z``."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            value = None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        _fail(
            f"{key!r} must be an ISO-8601 date-time, got {raw[key]!r}", f"{path}.{key}"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    moment = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def _int(
    raw: dict[str, Any], key: str, path: str, default: int | None = None, minimum=1
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(
            f"{key!r} must be an integer >= {minimum}, got {value!r}", f"{path}.{key}"
        )
    return value


def _number(raw: dict[str, Any], key: str, path: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        _fail(f"{key!r} must be a positive number, got {value!r}", f"{path}.{key}")
    return value


def _bool(raw: dict[str, Any], key: str, path: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        _fail(f"{key!r} must be true or false, got {value!r}", f"{path}.{key}")
    return value


def _by_name(
    names: dict[str, str], value: Any, what: str, path: str
) -> str:  # name or id → id
    if isinstance(value, str):
        if value in names:
            return names[value]
        if value in names.values():
            return value
    _fail(f"unknown {what} {value!r}; known: {sorted(names)}", path)


def _programs(raw: dict[str, Any], path: str, default: str) -> list[str]:
    programs = _list(raw, "program_ids", path)
    if not all(isinstance(p, str) and p for p in programs):
        _fail("program_ids must list program ids", f"{path}.program_ids")
    return programs or [default]


def _limit(raw: Any, path: str) -> Limit | None:
    if raw is None:
        return None
    _entry(raw, LIMIT_KEYS, path)
    unit = raw.get("per")
    if unit not in LIMIT_UNITS:
        _fail(f"'per' must be one of {list(LIMIT_UNITS)}, got {unit!r}", f"{path}.per")
    timezone = raw.get("timezone", "UTC")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:
        _fail(f"unknown timezone {timezone!r}", f"{path}.timezone")
    return Limit(count=_int(raw, "count", path), unit=unit, timezone=timezone)


def _application(raw: Any, path: str) -> Application:
    _entry(raw, APPLICATION_KEYS, path)
    client_id = _str(raw, "client_id", path)
    tokens = _list(raw, "producer_tokens", path)
    if not tokens or not all(isinstance(t, str) and t for t in tokens):
        _fail("producer_tokens must list one or more tokens", f"{path}.producer_tokens")

    def ident(item: dict[str, Any], kind: str, name: str) -> str:
        return item.get("id") or derived_id(client_id, kind, name)

    program_id = raw.get("default_program_id") or derived_id(
        client_id, "program", "default"
    )

    items = []
    for index, item in enumerate(_list(raw, "reward_items", path)):
        where = f"{path}.reward_items[{index}]"
        name = _str(_entry(item, ITEM_KEYS, where), "name", where)
        items.append(RewardItem(id=ident(item, "reward-item", name), name=name))
    item_ids = {i.name: i.id for i in items}

    actions = [
        RewardAction(
            id=derived_id(client_id, "reward-action", key),
            key=key,
            name=name,
            type="built-in",
        )
        for key, name in BUILT_IN_ACTIONS
    ]
    for index, item in enumerate(_list(raw, "reward_actions", path)):
        where = f"{path}.reward_actions[{index}]"
        name = _str(_entry(item, ACTION_KEYS, where), "name", where)
        key = item.get("key") or slugify(name)
        actions = [a for a in actions if a.key != key]
        actions.append(
            RewardAction(
                id=ident(item, "reward-action", key),
                key=key,
                name=name,
                description=_opt_str(item, "description", where),
            )
        )
    action_keys = {a.name: a.key for a in actions} | {a.key: a.key for a in actions}

    tables = []
    for index, item in enumerate(_list(raw, "reward_tables", path)):
        where = f"{path}.reward_tables[{index}]"
        name = _str(_entry(item, TABLE_KEYS, where), "name", where)
        entries = []
        for e_index, entry in enumerate(_list(item, "entries", where)):
            e_where = f"{where}.entries[{e_index}]"
            _entry(entry, ENTRY_KEYS, e_where)
            action = _by_name(
                action_keys, entry.get("action"), "reward action", f"{e_where}.action"
            )
            item_id = _by_name(
                item_ids,
                entry.get("reward_item"),
                "reward item",
                f"{e_where}.reward_item",
            )
            entries.append(
                RewardTableEntry(
                    id=entry.get("id")
                    or derived_id(client_id, "entry", f"{name}/{e_index}"),
                    action_key=action,
                    reward_item_id=item_id,
                    amount=_int(entry, "amount", e_where),
                    rate_limit=_limit(entry.get("rate_limit"), f"{e_where}.rate_limit"),
                    reward_limit=_limit(
                        entry.get("reward_limit"), f"{e_where}.reward_limit"
                    ),
                )
            )
        tables.append(
            RewardTable(
                id=ident(item, "reward-table", name),
                name=name,
                program_ids=_programs(item, where, program_id),
                entries=entries,
            )
        )

    badges = []
    for index, item in enumerate(_list(raw, "badges", path)):
        where = f"{path}.badges[{index}]"
        name = _str(_entry(item, BADGE_KEYS, where), "name", where)
        item_id = None
        threshold = None
        if item.get("reward_item") is not None:
            item_id = _by_name(
                item_ids, item["reward_item"], "reward item", f"{where}.reward_item"
            )
            threshold = _int(item, "threshold", where)
        badge_id = ident(item, "badge", name)
        badges.append(
            Badge(
                id=badge_id,
                name=name,
                description=_opt_str(item, "description", where),
                image_url=item.get("image_url")
                or f"https://cf-blast-storage.livelikecdn.com/badges/{badge_id}.png",
                reward_item_id=item_id,
                reward_item_threshold=threshold,
            )
        )
    badge_ids = {b.name: b.id for b in badges}

    groups = []
    for index, item in enumerate(_list(raw, "profile_groups", path)):
        where = f"{path}.profile_groups[{index}]"
        name = _str(_entry(item, GROUP_KEYS, where), "name", where)
        groups.append(
            ProfileGroup(
                id=ident(item, "profile-group", name),
                name=name,
                segment_audience_id=_opt_str(item, "segment_audience_id", where),
                custom_id=_opt_str(item, "custom_id", where),
                is_active=_bool(item, "is_active", where, True),
            )
        )
    group_ids = {g.name: g.id for g in groups}

    quests = []
    for index, item in enumerate(_list(raw, "quests", path)):
        where = f"{path}.quests[{index}]"
        name = _str(_entry(item, QUEST_KEYS, where), "name", where)
        tasks = []
        for t_index, task in enumerate(_list(item, "tasks", where)):
            t_where = f"{where}.tasks[{t_index}]"
            t_name = _str(_entry(task, TASK_KEYS, t_where), "name", t_where)
            linked = None
            if task.get("action") is not None:
                linked = _by_name(
                    action_keys, task["action"], "reward action", f"{t_where}.action"
                )
            tasks.append(
                QuestTask(
                    id=task.get("id") or derived_id(client_id, "quest-task", t_name),
                    name=t_name,
                    target_value=_int(task, "target_value", t_where, default=1),
                    default_progress_increment=_int(
                        task, "increment", t_where, default=1
                    ),
                    linked_action_key=linked,
                )
            )
        if not tasks:
            _fail("a quest needs at least one task", f"{where}.tasks")
        rewards = []
        for r_index, reward in enumerate(_list(item, "rewards", where)):
            r_where = f"{where}.rewards[{r_index}]"
            _entry(reward, QUEST_REWARD_KEYS, r_where)
            rewards.append(
                QuestReward(
                    id=derived_id(client_id, "quest-reward", f"{name}/{r_index}"),
                    reward_item_id=_by_name(
                        item_ids,
                        reward.get("reward_item"),
                        "reward item",
                        f"{r_where}.reward_item",
                    ),
                    amount=_int(reward, "amount", r_where),
                )
            )
        quests.append(
            Quest(
                id=ident(item, "quest", name),
                name=name,
                description=_opt_str(item, "description", where),
                tasks=tasks,
                rewards=rewards,
                badge_ids=[
                    _by_name(badge_ids, b, "badge", f"{where}.badges[{i}]")
                    for i, b in enumerate(_list(item, "badges", where))
                ],
                profile_group_ids=[
                    _by_name(
                        group_ids, g, "profile group", f"{where}.profile_groups[{i}]"
                    )
                    for i, g in enumerate(_list(item, "profile_groups", where))
                ],
                started_at=_opt_moment(item, "started_at", where),
                stopped_at=_opt_moment(item, "stopped_at", where),
            )
        )

    boards = []
    for index, item in enumerate(_list(raw, "leaderboards", path)):
        where = f"{path}.leaderboards[{index}]"
        name = _str(_entry(item, BOARD_KEYS, where), "name", where)
        boards.append(
            Leaderboard(
                id=ident(item, "leaderboard", name),
                name=name,
                reward_item_id=_by_name(
                    item_ids,
                    item.get("reward_item"),
                    "reward item",
                    f"{where}.reward_item",
                ),
                program_ids=_programs(item, where, program_id),
                is_locked=_bool(item, "is_locked", where, False),
            )
        )

    profiles = []
    for index, item in enumerate(_list(raw, "profiles", path)):
        where = f"{path}.profiles[{index}]"
        _entry(item, PROFILE_KEYS, where)
        profile_id = _str(item, "id", where)
        try:
            uuid.UUID(profile_id)
        except ValueError:
            _fail(f"profile id {profile_id!r} is not a UUID", f"{where}.id")
        custom_id = _opt_str(item, "custom_id", where)
        if custom_id is not None and len(custom_id) > MAX_CUSTOM_ID_CHARS:
            _fail(
                f"a LiveLike custom id is at most {MAX_CUSTOM_ID_CHARS} characters,"
                f" got {len(custom_id)}",
                f"{where}.custom_id",
            )
        profiles.append(
            SeedProfile(
                id=profile_id,
                custom_id=custom_id,
                nickname=_opt_str(item, "nickname", where),
            )
        )

    webhook = None
    if raw.get("webhook") is not None:
        where = f"{path}.webhook"
        hook = _entry(raw["webhook"], WEBHOOK_KEYS, where)
        webhook = Webhook(
            url=_str(hook, "url", where), secret=_str(hook, "secret", where)
        )

    return Application(
        client_id=client_id,
        name=raw.get("name") or client_id,
        producer_tokens=list(tokens),
        default_program_id=program_id,
        client_secret=raw.get("client_secret") or "",
        auto_quest_processing=_bool(raw, "auto_quest_processing", path, True),
        auto_claim_quest_rewards=_bool(raw, "auto_claim_quest_rewards", path, True),
        webhook=webhook,
        reward_items=items,
        reward_actions=actions,
        reward_tables=tables,
        badges=badges,
        quests=quests,
        leaderboards=boards,
        profile_groups=groups,
        profiles=profiles,
    )

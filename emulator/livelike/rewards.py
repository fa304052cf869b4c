"""The rewards engine: what LiveLike does with an event received from Segment.

LiveLike documents the pieces (profiles, reward actions, invoked actions, reward
tables, badges, quests, leaderboards, profile groups) but not how an event of
Segment's destination becomes an invoked action.  The engine follows the
emulator's documented assumptions (README, "LiveLike emulator and rewards"):

* the profile is ``livelike_profile_id``, else the profile of ``custom_id``, else
  the profile whose custom id is the Segment user id (both created on first use);
* the reward action is the one whose key or name matches ``event_name`` (or its
  slug), else a custom action created on the spot;
* the invocation's ``code`` hashes event name, timestamp and profile, so a
  redelivery by Segment is a no-op.

Every request is applied in one store transaction together with the outbox rows
of the source events it causes: nothing is ever half-applied.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from emulator.livelike import models, outbox
from emulator.livelike.config import (
    Application,
    Badge,
    Limit,
    LiveLikeConfig,
    Quest,
    RewardTableEntry,
    slugify,
)
from emulator.livelike.models import iso, new_id
from emulator.store.database import Database

log = logging.getLogger(__name__)

ATTRIBUTE_MAX = 200


class RewardsError(Exception):
    """A request the engine refuses as a whole; says why and where."""

    def __init__(self, message: str, *, status: int, code: str, path: str | None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.path = path


@dataclass
class EventOutcome:
    invoked_action_id: str | None
    profile_id: str
    reward_action_key: str
    duplicate: bool = False
    rewards: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Context:
    """One request being applied: its connection, application and clock."""

    conn: sqlite3.Connection
    app: Application
    now: datetime
    source_enabled: bool

    @property
    def stamp(self) -> str:
        return iso(self.now)

    def emit(self, event: str, profile: sqlite3.Row, properties: dict) -> None:
        outbox.emit(
            self.conn,
            app=self.app,
            source_enabled=self.source_enabled,
            event=event,
            profile=profile,
            properties=properties,
            now=self.stamp,
        )


class RewardsEngine:
    def __init__(
        self,
        config: LiveLikeConfig,
        db: Database,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))

    def _context(self, conn: sqlite3.Connection, app: Application) -> _Context:
        return _Context(
            conn=conn,
            app=app,
            now=self.clock(),
            source_enabled=bool(self.config.source.write_key),
        )

    # --- segment-events ---------------------------------------------------------

    def process_events(
        self, app: Application, events: list[dict[str, Any]]
    ) -> list[EventOutcome]:
        """Apply the (already validated) events of one request, all or nothing."""
        with self.db.transaction() as conn:
            ctx = self._context(conn, app)
            return [
                self._process_event(ctx, event, index)
                for index, event in enumerate(events)
            ]

    def _process_event(
        self, ctx: _Context, event: dict[str, Any], index: int
    ) -> EventOutcome:
        profile = self._resolve_profile(ctx, event, f"$.events[{index}]")
        action_key = self._resolve_action(ctx, event["event_name"])
        code = _invocation_code(event, profile["id"])

        duplicate = ctx.conn.execute(
            "SELECT id FROM ll_invoked_action WHERE client_id = ? AND profile_id = ?"
            " AND reward_action_key = ? AND code = ?",
            (ctx.app.client_id, profile["id"], action_key, code),
        ).fetchone()
        if duplicate is not None:
            log.info("invocation duplicate action=%s code=%s", action_key, code)
            return EventOutcome(duplicate["id"], profile["id"], action_key, True)

        invoked_id = new_id()
        ctx.conn.execute(
            "INSERT INTO ll_invoked_action (id, client_id, program_id, profile_id,"
            " reward_action_key, code, attributes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                invoked_id,
                ctx.app.client_id,
                ctx.app.default_program_id,
                profile["id"],
                action_key,
                code,
                models.dumps(_attributes(event)),
                ctx.stamp,
            ),
        )
        rewards = self._invoke(ctx, profile, action_key, invoked_id, code)
        ctx.conn.execute(
            "UPDATE ll_invoked_action SET rewards = ? WHERE id = ?",
            (models.dumps(rewards), invoked_id),
        )
        log.info(
            "invocation applied action=%s profile=%s rewards=%d",
            action_key,
            profile["id"],
            len(rewards),
        )
        return EventOutcome(invoked_id, profile["id"], action_key, False, rewards)

    def _resolve_profile(
        self, ctx: _Context, event: dict[str, Any], where: str
    ) -> sqlite3.Row:
        profile_id = event.get("livelike_profile_id")
        if profile_id:
            row = models.profile(ctx.conn, profile_id)
            if row is None or row["client_id"] != ctx.app.client_id:
                raise RewardsError(
                    f"No profile found from input profile uuid {profile_id!r}.",
                    status=404,
                    code="profile_not_found",
                    path=f"{where}.livelike_profile_id",
                )
            return row

        for key in ("custom_id", "segment_user_id"):
            custom_id = event.get(key)
            if custom_id:
                row = models.profile_by_custom_id(
                    ctx.conn, ctx.app.client_id, custom_id
                )
                return row or models.create_profile(
                    ctx.conn, ctx.app.client_id, custom_id, ctx.stamp
                )

        raise RewardsError(
            "`livelike_profile_id` or `custom_id` or `segment_user_id` is required.",
            status=400,
            code="missing_profile",
            path=where,
        )

    def _resolve_action(self, ctx: _Context, event_name: str) -> str:
        slug = slugify(event_name) or "event"
        configured = ctx.app.reward_actions
        for match in (
            lambda a: a.key == event_name,
            lambda a: a.key == slug,
            lambda a: a.name == event_name,
        ):
            found = next((a for a in configured if match(a)), None)
            if found is not None:
                return found.key

        row = ctx.conn.execute(
            "SELECT key FROM ll_reward_action WHERE client_id = ?"
            " AND (key = ? OR key = ? OR name = ?)",
            (ctx.app.client_id, event_name, slug, event_name),
        ).fetchone()
        if row is not None:
            return row["key"]

        ctx.conn.execute(
            "INSERT INTO ll_reward_action (id, client_id, key, name, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (new_id(), ctx.app.client_id, slug, event_name, ctx.stamp),
        )
        log.info("reward action created key=%s name=%s", slug, event_name)
        return slug

    # --- an invocation ----------------------------------------------------------

    def _invoke(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        action_key: str,
        invoked_id: str,
        code: str,
    ) -> list[dict[str, Any]]:
        program_id = ctx.app.default_program_id
        rewards = []

        for table in ctx.app.reward_tables:
            if program_id not in table.program_ids:
                continue
            for entry in table.entries:
                if entry.action_key != action_key:
                    continue
                if not self._within_limits(ctx, profile["id"], entry):
                    log.info(
                        "reward capped entry=%s profile=%s", entry.id, profile["id"]
                    )
                    continue
                rewards.append(
                    self._table_reward(
                        ctx, profile, entry, action_key, invoked_id, code, program_id
                    )
                )

        if ctx.app.auto_quest_processing:
            self._advance_quests(ctx, profile, action_key, program_id)
        return rewards

    def _table_reward(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        entry: RewardTableEntry,
        action_key: str,
        invoked_id: str,
        code: str,
        program_id: str,
    ) -> dict[str, Any]:
        item = ctx.app.item(entry.reward_item_id)
        transaction_id, new_balance = self._credit(
            ctx,
            profile,
            entry.reward_item_id,
            entry.amount,
            source="reward-table",
            reward_action_key=action_key,
            invoked_action_id=invoked_id,
            invoked_action_code=code,
            reward_table_entry_id=entry.id,
        )
        ctx.emit(
            "Reward Item Rewarded",
            profile,
            {
                "reward_item_id": item.id,
                "reward_item_name": item.name,
                "reward_item_amount": entry.amount,
                "reward_item_balance": new_balance,
                "reward_item_transaction_id": transaction_id,
            },
        )
        self._score(ctx, profile["id"], item.id, entry.amount, program_id)
        self._check_badges(ctx, profile, item.id)
        return {
            "reward_item_id": item.id,
            "reward_item_name": item.name,
            "reward_item_amount": entry.amount,
        }

    def _credit(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        item_id: str,
        amount: int,
        *,
        source: str,
        **links: str | None,
    ) -> tuple[str, int]:
        transaction_id = new_id()
        ctx.conn.execute(
            "INSERT INTO ll_transaction (id, client_id, profile_id, reward_item_id,"
            " amount, source, reward_action_key, invoked_action_id,"
            " invoked_action_code, reward_table_entry_id, user_quest_id, created_at,"
            " created_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                transaction_id,
                ctx.app.client_id,
                profile["id"],
                item_id,
                amount,
                source,
                links.get("reward_action_key"),
                links.get("invoked_action_id"),
                links.get("invoked_action_code"),
                links.get("reward_table_entry_id"),
                links.get("user_quest_id"),
                ctx.stamp,
                ctx.now.timestamp(),
            ),
        )
        new_balance = models.add_to_balance(ctx.conn, profile["id"], item_id, amount)
        return transaction_id, new_balance

    def _within_limits(
        self, ctx: _Context, profile_id: str, entry: RewardTableEntry
    ) -> bool:
        for limit, since in (
            (entry.rate_limit, _rolling_start),
            (entry.reward_limit, _calendar_start),
        ):
            if limit is None:
                continue
            start = since(ctx.now, limit).timestamp()
            used = ctx.conn.execute(
                "SELECT COUNT(*) FROM ll_transaction WHERE profile_id = ?"
                " AND reward_table_entry_id = ? AND created_ts >= ?",
                (profile_id, entry.id, start),
            ).fetchone()[0]
            if used >= limit.count:
                return False
        return True

    def _score(
        self, ctx: _Context, profile_id: str, item_id: str, amount: int, program_id: str
    ) -> None:
        """Add an earned amount to each unlocked leaderboard of the item's program.

        Only earnings call this, so spending can never lower a score.
        """
        for board in ctx.app.leaderboards:
            if board.is_locked or board.reward_item_id != item_id:
                continue
            if program_id not in board.program_ids or amount <= 0:
                continue
            ctx.conn.execute(
                "INSERT INTO ll_leaderboard_entry (leaderboard_id, profile_id, score,"
                " updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (leaderboard_id, profile_id)"
                " DO UPDATE SET score = score + excluded.score,"
                " updated_at = excluded.updated_at",
                (board.id, profile_id, amount, ctx.stamp),
            )

    def _check_badges(self, ctx: _Context, profile: sqlite3.Row, item_id: str) -> None:
        current = models.balance(ctx.conn, profile["id"], item_id)
        item = ctx.app.item(item_id)
        for badge in ctx.app.badges:
            if badge.reward_item_id != item_id or badge.reward_item_threshold is None:
                continue
            if current < badge.reward_item_threshold:
                continue
            self._award_badge(
                ctx,
                profile,
                badge,
                "reward_transaction",
                {
                    "reward_item_id": item.id,
                    "reward_item_name": item.name,
                    "reward_item_threshold": badge.reward_item_threshold,
                },
            )

    def _award_badge(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        badge: Badge,
        source: str,
        details: dict[str, Any],
    ) -> None:
        """Earn *badge* and emit ``Badge Rewarded``, unless the profile has it.

        A badge is never earned twice; *details* are the event's properties that
        say what earned it (the reward item, or the quest).
        """
        earned_id = new_id()
        cursor = ctx.conn.execute(
            "INSERT INTO ll_earned_badge (id, client_id, badge_id, profile_id, source,"
            " awarded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (earned_id, ctx.app.client_id, badge.id, profile["id"], source, ctx.stamp),
        )
        if cursor.rowcount == 0:
            return
        log.info("badge earned badge=%s profile=%s", badge.id, profile["id"])

        ctx.emit(
            "Badge Rewarded",
            profile,
            {
                "badge_id": badge.id,
                "badge_title": badge.name,
                "description": badge.description,
                "earned_badge_id": earned_id,
                "image_url": badge.image_url,
                **details,
                "source": source,
            },
        )

    # --- quests -----------------------------------------------------------------

    def _advance_quests(
        self, ctx: _Context, profile: sqlite3.Row, action_key: str, program_id: str
    ) -> None:
        for quest in ctx.app.quests:
            tasks = [t for t in quest.tasks if t.linked_action_key == action_key]
            if not tasks or not self._eligible(ctx, profile["id"], quest):
                continue

            user_quest = self._user_quest(ctx, profile["id"], quest)
            if user_quest["status"] == "completed":
                continue
            for task in tasks:
                self._progress_task(ctx, profile, quest, user_quest, task.id, None)
            self._maybe_complete(ctx, profile, quest, user_quest["id"], program_id)

    def _eligible(self, ctx: _Context, profile_id: str, quest: Quest) -> bool:
        stamp = ctx.stamp
        if quest.started_at and stamp < quest.started_at:
            return False
        if quest.stopped_at and stamp >= quest.stopped_at:
            return False
        if not quest.profile_group_ids:
            return True
        marks = ",".join("?" * len(quest.profile_group_ids))
        row = ctx.conn.execute(
            "SELECT 1 FROM ll_membership WHERE profile_id = ?"
            f" AND group_id IN ({marks})",
            (profile_id, *quest.profile_group_ids),
        ).fetchone()
        return row is not None

    def _user_quest(self, ctx: _Context, profile_id: str, quest: Quest) -> sqlite3.Row:
        row = ctx.conn.execute(
            "SELECT * FROM ll_user_quest WHERE profile_id = ? AND quest_id = ?",
            (profile_id, quest.id),
        ).fetchone()
        if row is not None:
            return row

        user_quest_id = new_id()
        ctx.conn.execute(
            "INSERT INTO ll_user_quest (id, client_id, profile_id, quest_id,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            (user_quest_id, ctx.app.client_id, profile_id, quest.id, ctx.stamp),
        )
        for task in quest.tasks:
            ctx.conn.execute(
                "INSERT INTO ll_user_quest_task (id, user_quest_id, quest_task_id,"
                " created_at) VALUES (?, ?, ?, ?)",
                (new_id(), user_quest_id, task.id, ctx.stamp),
            )
        log.info("user quest started quest=%s profile=%s", quest.id, profile_id)
        return ctx.conn.execute(
            "SELECT * FROM ll_user_quest WHERE id = ?", (user_quest_id,)
        ).fetchone()

    def _progress_task(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        quest: Quest,
        user_quest: sqlite3.Row,
        task_id: str,
        custom_progress: float | None,
    ) -> None:
        task = next(t for t in quest.tasks if t.id == task_id)
        row = ctx.conn.execute(
            "SELECT * FROM ll_user_quest_task WHERE user_quest_id = ?"
            " AND quest_task_id = ?",
            (user_quest["id"], task_id),
        ).fetchone()
        if row["status"] == "completed":
            return  # a completed task ignores further progress

        if custom_progress is None:
            progress = row["progress"] + task.default_progress_increment
        else:
            progress = custom_progress
        done = progress >= task.target_value
        ctx.conn.execute(
            "UPDATE ll_user_quest_task SET progress = ?, status = ?, completed_at = ?"
            " WHERE id = ?",
            (
                progress,
                "completed" if done else "incomplete",
                ctx.stamp if done else None,
                row["id"],
            ),
        )
        ids = {
            "quest_id": quest.id,
            "quest_name": quest.name,
            "quest_task_id": task.id,
            "quest_task_name": task.name,
        }
        ctx.emit(
            "User Quest Task Progressed",
            profile,
            {
                **ids,
                "quest_task_target_value": task.target_value,
                "user_quest_id": user_quest["id"],
                "user_quest_task_id": row["id"],
                "user_quest_task_progress": _number(progress),
            },
        )
        if done:
            ctx.emit(
                "Quest Task Completed",
                profile,
                {
                    **ids,
                    "user_quest_id": user_quest["id"],
                    "user_quest_task_id": row["id"],
                },
            )

    def _maybe_complete(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        quest: Quest,
        user_quest_id: str,
        program_id: str,
    ) -> None:
        open_tasks = ctx.conn.execute(
            "SELECT COUNT(*) FROM ll_user_quest_task WHERE user_quest_id = ?"
            " AND status != 'completed'",
            (user_quest_id,),
        ).fetchone()[0]
        if open_tasks:
            return

        cursor = ctx.conn.execute(
            "UPDATE ll_user_quest SET status = 'completed', completed_at = ?"
            " WHERE id = ? AND status != 'completed'",
            (ctx.stamp, user_quest_id),
        )
        if cursor.rowcount == 0:
            return
        log.info("user quest completed quest=%s profile=%s", quest.id, profile["id"])
        ctx.emit(
            "User Quest Completed",
            profile,
            {
                "quest_id": quest.id,
                "quest_name": quest.name,
                "user_quest_id": user_quest_id,
            },
        )
        if ctx.app.auto_claim_quest_rewards:
            self._claim(ctx, profile, quest, user_quest_id, program_id)

    def _claim(
        self,
        ctx: _Context,
        profile: sqlite3.Row,
        quest: Quest,
        user_quest_id: str,
        program_id: str,
    ) -> bool:
        """Pay a completed quest's rewards and badges; a second claim pays nothing."""
        cursor = ctx.conn.execute(
            "UPDATE ll_user_quest SET rewards_status = 'claimed',"
            " rewards_claimed_at = ? WHERE id = ? AND status = 'completed'"
            " AND rewards_status = 'unclaimed'",
            (ctx.stamp, user_quest_id),
        )
        if cursor.rowcount == 0:
            return False

        quest_ids = {
            "quest_id": quest.id,
            "quest_name": quest.name,
        }
        for reward in quest.rewards:
            item = ctx.app.item(reward.reward_item_id)
            transaction_id, new_balance = self._credit(
                ctx,
                profile,
                item.id,
                reward.amount,
                source="quest-completed",
                user_quest_id=user_quest_id,
            )
            ctx.emit(
                "Quest Reward Awarded",
                profile,
                {
                    **quest_ids,
                    "reward_item_id": item.id,
                    "reward_item_name": item.name,
                    "reward_item_amount": reward.amount,
                    "reward_item_balance": new_balance,
                    "reward_item_transaction_id": transaction_id,
                },
            )
            self._score(ctx, profile["id"], item.id, reward.amount, program_id)
            self._check_badges(ctx, profile, item.id)

        for badge_id in quest.badge_ids:
            self._award_badge(
                ctx,
                profile,
                ctx.app.badge(badge_id),
                "quest",
                {**quest_ids, "user_quest_id": user_quest_id},
            )
        return True

    def claim_quest_rewards(self, app: Application, user_quest_id: str) -> bool:
        """``PATCH /user-quests/{id}/ {"rewards_status": "claimed"}``."""
        with self.db.transaction() as conn:
            ctx = self._context(conn, app)
            row = conn.execute(
                "SELECT * FROM ll_user_quest WHERE id = ? AND client_id = ?",
                (user_quest_id, app.client_id),
            ).fetchone()
            if row is None:
                raise RewardsError(
                    f"No user quest {user_quest_id!r}.",
                    status=404,
                    code="not_found",
                    path=None,
                )
            if row["status"] != "completed":
                raise RewardsError(
                    "Rewards of an incomplete user quest cannot be claimed.",
                    status=400,
                    code="quest_incomplete",
                    path="$.rewards_status",
                )
            profile = models.profile(conn, row["profile_id"])
            quest = app.quest(row["quest_id"])
            return self._claim(ctx, profile, quest, row["id"], app.default_program_id)

    # --- segment-audience-sync --------------------------------------------------

    def sync_audience(self, app: Application, items: list[dict[str, Any]]) -> list[str]:
        """Apply add/remove items in order; an item naming no group is only logged."""
        outcomes = []
        with self.db.transaction() as conn:
            ctx = self._context(conn, app)
            for item in items:
                outcomes.append(self._sync_item(ctx, item))
        return outcomes

    def _sync_item(self, ctx: _Context, item: dict[str, Any]) -> str:
        group = next(
            (
                g
                for g in ctx.app.profile_groups
                if g.is_active and g.segment_audience_id == item["audience_id"]
            ),
            None,
        )
        profile = None
        if group is None:
            outcome = "no_group"
        else:
            profile = self._sync_profile(ctx, item)
            if profile is None:
                outcome = "unknown_profile"
            elif item["action"]:
                cursor = ctx.conn.execute(
                    "INSERT INTO ll_membership (group_id, profile_id, created_at)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (group.id, profile["id"], ctx.stamp),
                )
                outcome = "added" if cursor.rowcount else "already_added"
            else:
                cursor = ctx.conn.execute(
                    "DELETE FROM ll_membership WHERE group_id = ? AND profile_id = ?",
                    (group.id, profile["id"]),
                )
                outcome = "removed" if cursor.rowcount else "not_a_member"

        ctx.conn.execute(
            "INSERT INTO ll_audience_log (client_id, audience_id, audience_name,"
            " action, profile_id, outcome, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                ctx.app.client_id,
                item["audience_id"],
                item.get("audience_name"),
                int(bool(item["action"])),
                profile["id"] if profile is not None else None,
                outcome,
                ctx.stamp,
            ),
        )
        log.info("audience item audience=%s outcome=%s", item["audience_id"], outcome)
        return outcome

    def _sync_profile(self, ctx: _Context, item: dict[str, Any]) -> sqlite3.Row | None:
        profile_id = item.get("livelike_profile_id")
        if isinstance(profile_id, str) and profile_id:
            row = models.profile(ctx.conn, profile_id)
            if row is not None and row["client_id"] == ctx.app.client_id:
                return row
            return None
        for key in ("custom_id", "user_id"):
            custom_id = item.get(key)
            if isinstance(custom_id, str) and custom_id:
                row = models.profile_by_custom_id(
                    ctx.conn, ctx.app.client_id, custom_id
                )
                return row or models.create_profile(
                    ctx.conn, ctx.app.client_id, custom_id, ctx.stamp
                )
        return None


def _invocation_code(event: dict[str, Any], profile_id: str) -> str:
    digest = hashlib.sha256(
        "\x1f".join((event["event_name"], event["timestamp"], profile_id)).encode()
    )
    return digest.hexdigest()[:32]


def _attributes(event: dict[str, Any]) -> list[dict[str, str]]:
    """Scalar properties as LiveLike attributes (200 characters each at most)."""
    attributes = []
    for key, value in (event.get("properties") or {}).items():
        if isinstance(value, dict | list) or value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        attributes.append(
            {"key": str(key)[:ATTRIBUTE_MAX], "value": str(value)[:ATTRIBUTE_MAX]}
        )
    attributes.append({"key": "event_type", "value": str(event["event_type"])})
    return attributes


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# TODO(livelike): a rate limit's "month" is a rolling 30 days; LiveLike does not
# document its window maths (reward limits use real calendar months).
_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
}


def _rolling_start(now: datetime, limit: Limit) -> datetime:
    """A rate limit counts the rewards of the last *unit* (a sliding window)."""
    return now - timedelta(seconds=_UNIT_SECONDS[limit.unit])


def _calendar_start(now: datetime, limit: Limit) -> datetime:
    """A reward limit counts from the start of the current *unit* in its timezone."""
    local = now.astimezone(ZoneInfo(limit.timezone))
    if limit.unit == "second":
        start = local.replace(microsecond=0)
    elif limit.unit == "minute":
        start = local.replace(second=0, microsecond=0)
    elif limit.unit == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if limit.unit == "week":
            start -= timedelta(days=start.weekday())
        elif limit.unit == "month":
            start = start.replace(day=1)
    return start

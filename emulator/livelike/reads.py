"""Read routes with LiveLike's public shapes, for tests and people.

Every route needs a producer token and sees only its application's data.  Lists
come in LiveLike's page envelope ``{count, next, previous, results}``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Blueprint, jsonify, request

from emulator.livelike import models
from emulator.livelike.app import authenticate, engine, json_body, rewards_error
from emulator.livelike.config import Application
from emulator.livelike.rewards import RewardsError, _number
from emulator.web.errors import APIError
from emulator.web.query import integer_arg

blueprint = Blueprint("livelike_reads", __name__, url_prefix="/api/v1")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _page(rows: list[Any]) -> dict[str, Any]:
    page = integer_arg("page", 1, 1, path_prefix="$.query.")
    size = integer_arg(
        "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, path_prefix="$.query."
    )
    start = (page - 1) * size
    chunk = rows[start : start + size]

    def link(number: int) -> str:
        args = request.args.to_dict()
        args["page"] = str(number)
        query = "&".join(f"{k}={v}" for k, v in args.items())
        return f"{request.base_url}?{query}"

    return {
        "count": len(rows),
        "next": link(page + 1) if start + size < len(rows) else None,
        "previous": link(page - 1) if page > 1 and rows else None,
        "results": chunk,
    }


def _scoped_app() -> Application:
    app = authenticate()
    wanted = request.args.get("client_id")
    if wanted is not None and wanted != app.client_id:
        raise APIError(
            f"The token does not belong to application {wanted!r}.",
            status=403,
            code="forbidden",
        )
    return app


def _profile_or_404(conn: sqlite3.Connection, app: Application, profile_id: str):
    row = models.profile(conn, profile_id)
    if row is None or row["client_id"] != app.client_id:
        raise APIError(
            f"No profile {profile_id!r} in this application.",
            status=404,
            code="not_found",
            detail="Not found.",
        )
    return row


def profile_view(row: sqlite3.Row, conn: sqlite3.Connection) -> dict[str, Any]:
    points = conn.execute(
        "SELECT COALESCE(SUM(balance), 0) FROM ll_balance WHERE profile_id = ?",
        (row["id"],),
    ).fetchone()[0]
    badges = conn.execute(
        "SELECT COUNT(*) FROM ll_earned_badge WHERE profile_id = ?", (row["id"],)
    ).fetchone()[0]
    base = f"{request.host_url}api/v1/profiles/{row['id']}"
    return {
        "id": row["id"],
        "client_id": row["client_id"],
        "custom_id": row["custom_id"],
        "nickname": row["nickname"],
        "created_at": row["created_at"],
        "points": points,
        "badges": badges,
        "reward_item_balances_url": f"{base}/reward-item-balances/",
        "badges_url": f"{base}/badges/",
    }


@blueprint.get("/profiles/<profile_id>/")
def get_profile(profile_id: str):
    app = _scoped_app()
    with engine().db.reading() as conn:
        return jsonify(profile_view(_profile_or_404(conn, app, profile_id), conn))


@blueprint.get("/profile-by-custom-id/<client_id>/<custom_id>/")
def get_profile_by_custom_id(client_id: str, custom_id: str):
    app = authenticate(client_id)
    with engine().db.reading() as conn:
        row = models.profile_by_custom_id(conn, app.client_id, custom_id)
        if row is None:
            raise APIError(
                f"No profile with custom_id {custom_id!r}.",
                status=404,
                code="not_found",
                detail="Not found.",
            )
        return jsonify(profile_view(row, conn))


@blueprint.get("/profiles/<profile_id>/reward-item-balances/")
def get_balances(profile_id: str):
    app = _scoped_app()
    wanted = request.args.getlist("reward_item_id")
    with engine().db.reading() as conn:
        _profile_or_404(conn, app, profile_id)
        results = [
            {
                "reward_item_id": item.id,
                "reward_item_name": item.name,
                "reward_item_balance": models.balance(conn, profile_id, item.id),
            }
            for item in app.reward_items
            if not wanted or item.id in wanted
        ]
    return jsonify(_page(results))


@blueprint.get("/profiles/<profile_id>/badges/")
def get_profile_badges(profile_id: str):
    app = _scoped_app()
    with engine().db.reading() as conn:
        _profile_or_404(conn, app, profile_id)
        rows = conn.execute(
            "SELECT * FROM ll_earned_badge WHERE profile_id = ? ORDER BY seq",
            (profile_id,),
        ).fetchall()
    results = [
        {"awarded_at": row["awarded_at"], "badge": _badge_view(app, row["badge_id"])}
        for row in rows
    ]
    return jsonify(_page(results))


def _badge_view(app: Application, badge_id: str) -> dict[str, Any]:
    badge = app.badge(badge_id)
    return {
        "id": badge.id,
        "client_id": app.client_id,
        "name": badge.name,
        "description": badge.description,
        "badge_icon_url": badge.image_url,
        "reward_item_id": badge.reward_item_id,
        "reward_item_threshold": badge.reward_item_threshold,
    }


def _where(app: Application, filters: dict[str, str]) -> tuple[str, list[Any]]:
    sql = " WHERE client_id = ?"
    params: list[Any] = [app.client_id]
    for arg, column in filters.items():
        values = request.args.getlist(arg)
        if values:
            sql += f" AND {column} IN ({','.join('?' * len(values))})"
            params.extend(values)
    return sql, params


@blueprint.get("/reward-transactions/")
def list_transactions():
    app = _scoped_app()
    where, params = _where(
        app,
        {
            "profile_id": "profile_id",
            "reward_item_id": "reward_item_id",
            "reward_action_key": "reward_action_key",
        },
    )
    with engine().db.reading() as conn:
        rows = conn.execute(
            f"SELECT t.*, p.nickname FROM ll_transaction t JOIN ll_profile p"
            f" ON p.id = t.profile_id{where.replace('client_id', 't.client_id', 1)}"
            " ORDER BY t.seq DESC",
            params,
        ).fetchall()
    actions = {a.key: a for a in app.reward_actions}
    results = []
    for row in rows:
        item = app.item(row["reward_item_id"])
        action = actions.get(row["reward_action_key"])
        results.append(
            {
                "id": row["id"],
                "created_at": row["created_at"],
                "profile_id": row["profile_id"],
                "profile_nickname": row["nickname"],
                "reward_item_id": row["reward_item_id"],
                "reward_item_name": item.name if item else None,
                "reward_item_amount": row["amount"],
                "reward_action_id": action.id if action else None,
                "reward_action_key": row["reward_action_key"],
                "reward_action_name": action.name if action else None,
                "widget_id": None,
                "widget_kind": None,
                "source": row["source"],
                "user_quest_id": row["user_quest_id"],
                "invoked_action_id": row["invoked_action_id"],
                "invoked_action_code": row["invoked_action_code"],
                "reward_table_entry_id": row["reward_table_entry_id"],
            }
        )
    return jsonify(_page(results))


@blueprint.get("/invoked-actions/")
def list_invoked_actions():
    app = _scoped_app()
    where, params = _where(
        app,
        {
            "profile_id": "profile_id",
            "reward_action_key": "reward_action_key",
            "code": "code",
            "program_id": "program_id",
        },
    )
    ordering = request.args.get("ordering", "-created_at")
    if ordering not in ("created_at", "-created_at"):
        raise APIError(
            f"Query parameter 'ordering' must be created_at or -created_at, "
            f"got {ordering!r}.",
            code="invalid_query",
            path="$.query.ordering",
        )
    order = "ASC" if ordering == "created_at" else "DESC"
    with engine().db.reading() as conn:
        rows = conn.execute(
            f"SELECT i.*, p.nickname FROM ll_invoked_action i JOIN ll_profile p"
            f" ON p.id = i.profile_id{where.replace('client_id', 'i.client_id', 1)}"
            f" ORDER BY i.seq {order}",
            params,
        ).fetchall()
    results = [
        {
            "id": row["id"],
            "created_at": row["created_at"],
            "client_id": row["client_id"],
            "program_id": row["program_id"],
            "profile_id": row["profile_id"],
            "profile_nickname": row["nickname"],
            "reward_action_key": row["reward_action_key"],
            "code": row["code"],
            "attributes": models.loads(row["attributes"]),
            "rewards": models.loads(row["rewards"]),
        }
        for row in rows
    ]
    return jsonify(_page(results))


@blueprint.get("/reward-actions/")
def list_reward_actions():
    app = _scoped_app()
    results = [
        {
            "id": a.id,
            "client_id": app.client_id,
            "key": a.key,
            "name": a.name,
            "description": a.description,
            "type": a.type,
        }
        for a in app.reward_actions
    ]
    for row in engine().db.query(
        "SELECT * FROM ll_reward_action WHERE client_id = ? ORDER BY created_at",
        (app.client_id,),
    ):
        results.append(
            {
                "id": row["id"],
                "client_id": app.client_id,
                "key": row["key"],
                "name": row["name"],
                "description": None,
                "type": "custom",
            }
        )
    return jsonify(_page(results))


@blueprint.get("/reward-items/")
def list_reward_items():
    app = _scoped_app()
    results = [
        {"id": i.id, "client_id": app.client_id, "name": i.name, "attributes": []}
        for i in app.reward_items
    ]
    return jsonify(_page(results))


@blueprint.get("/earned-badges/")
def list_earned_badges():
    app = _scoped_app()
    where, params = _where(app, {"profile_id": "profile_id", "badge_id": "badge_id"})
    with engine().db.reading() as conn:
        rows = conn.execute(
            f"SELECT * FROM ll_earned_badge{where} ORDER BY seq", params
        ).fetchall()
        profiles = {
            r["profile_id"]: models.profile(conn, r["profile_id"]) for r in rows
        }
    results = [
        {
            "id": row["id"],
            "badge_id": row["badge_id"],
            "awarded_at": row["awarded_at"],
            "source": row["source"],
            "profile": {
                "id": row["profile_id"],
                "nickname": profiles[row["profile_id"]]["nickname"],
                "custom_id": profiles[row["profile_id"]]["custom_id"],
            },
            "badge": _badge_view(app, row["badge_id"]),
        }
        for row in rows
    ]
    return jsonify(_page(results))


def _user_quest_view(
    app: Application, row: sqlite3.Row, conn: sqlite3.Connection
) -> dict[str, Any]:
    quest = app.quest(row["quest_id"])
    tasks = {t.id: t for t in quest.tasks}
    task_rows = conn.execute(
        "SELECT * FROM ll_user_quest_task WHERE user_quest_id = ? ORDER BY rowid",
        (row["id"],),
    ).fetchall()
    return {
        "id": row["id"],
        "profile_id": row["profile_id"],
        "quest_id": row["quest_id"],
        "quest": {"id": quest.id, "name": quest.name, "description": quest.description},
        "user_quest_tasks": [
            {
                "id": t["id"],
                "user_quest_id": row["id"],
                "quest_task": {
                    "id": t["quest_task_id"],
                    "name": tasks[t["quest_task_id"]].name,
                    "target_value": tasks[t["quest_task_id"]].target_value,
                    "default_progress_increment": tasks[
                        t["quest_task_id"]
                    ].default_progress_increment,
                },
                "progress": _number(t["progress"]),
                "status": t["status"],
                "completed_at": t["completed_at"],
                "created_at": t["created_at"],
            }
            for t in task_rows
        ],
        "status": row["status"],
        "completed_at": row["completed_at"],
        "rewards_status": row["rewards_status"],
        "rewards_claimed_at": row["rewards_claimed_at"],
        "created_at": row["created_at"],
    }


@blueprint.get("/user-quests/")
def list_user_quests():
    app = _scoped_app()
    where, params = _where(
        app,
        {
            "profile_id": "profile_id",
            "quest_id": "quest_id",
            "status": "status",
            "rewards_status": "rewards_status",
        },
    )
    with engine().db.reading() as conn:
        rows = conn.execute(
            f"SELECT * FROM ll_user_quest{where} ORDER BY seq", params
        ).fetchall()
        results = [_user_quest_view(app, row, conn) for row in rows]
    return jsonify(_page(results))


@blueprint.patch("/user-quests/<user_quest_id>/")
def patch_user_quest(user_quest_id: str):
    app = _scoped_app()
    body = json_body()
    if not isinstance(body, dict) or body.get("rewards_status") != "claimed":
        raise APIError(
            f'Only {{"rewards_status": "claimed"}} is supported, got {body!r}.',
            code="invalid_body",
            path="$.rewards_status",
        )
    try:
        engine().claim_quest_rewards(app, user_quest_id)
    except RewardsError as error:
        raise rewards_error(error) from None
    with engine().db.reading() as conn:
        row = conn.execute(
            "SELECT * FROM ll_user_quest WHERE id = ?", (user_quest_id,)
        ).fetchone()
        return jsonify(_user_quest_view(app, row, conn))


@blueprint.get("/leaderboards/<leaderboard_id>/entries/")
def leaderboard_entries(leaderboard_id: str):
    app = _scoped_app()
    board = next((b for b in app.leaderboards if b.id == leaderboard_id), None)
    if board is None:
        raise APIError(
            f"No leaderboard {leaderboard_id!r}.",
            status=404,
            code="not_found",
            detail="Not found.",
        )
    rows = engine().db.query(
        "SELECT e.*, p.nickname, p.custom_id FROM ll_leaderboard_entry e"
        " JOIN ll_profile p ON p.id = e.profile_id WHERE e.leaderboard_id = ?"
        " ORDER BY e.score DESC, e.updated_at ASC",
        (leaderboard_id,),
    )
    total = len(rows)
    entries = []
    for position, row in enumerate(rows, start=1):
        rank = position
        if entries and entries[-1]["score"] == row["score"]:
            rank = entries[-1]["rank"]  # equal scores share a rank
        entries.append(
            {
                "rank": rank,
                "percentile_rank": f"{(total - rank) / total:.3f}",
                "score": row["score"],
                "profile_id": row["profile_id"],
                "profile_nickname": row["nickname"],
                "profile": {
                    "id": row["profile_id"],
                    "nickname": row["nickname"],
                    "custom_id": row["custom_id"],
                },
            }
        )
    wanted = request.args.getlist("profile_id")
    if wanted:
        entries = [e for e in entries if e["profile_id"] in wanted]
    return jsonify(_page(entries))


@blueprint.get("/applications/<client_id>/profile-groups/<group_id>/members/")
def group_members(client_id: str, group_id: str):
    app = authenticate(client_id)
    group = next((g for g in app.profile_groups if g.id == group_id), None)
    if group is None or not group.is_active:
        raise APIError(
            f"No profile group {group_id!r}.",
            status=404,
            code="not_found",
            detail="Not found.",
        )
    rows = engine().db.query(
        "SELECT m.created_at, p.id, p.nickname, p.custom_id FROM ll_membership m"
        " JOIN ll_profile p ON p.id = m.profile_id WHERE m.group_id = ?"
        " ORDER BY m.created_at, p.id",
        (group_id,),
    )
    results = [
        {
            "id": row["id"],
            "nickname": row["nickname"],
            "custom_id": row["custom_id"],
            "membership_created_at": row["created_at"],
        }
        for row in rows
    ]
    return jsonify(_page(results))

"""The destination API: auth, bodies, statuses, the request log and control routes."""

from __future__ import annotations

import pytest

from tests.livelike_helpers import (
    ADA,
    AUDIENCE,
    AUTH,
    CLIENT_ID,
    EVENTS,
    event,
    make_livelike,
)


@pytest.fixture
def ll():
    return make_livelike()


@pytest.mark.parametrize(
    "path",
    [
        EVENTS,
        AUDIENCE,
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Token demo-producer-token"},
        {"Authorization": "Bearer "},
    ],
)
def test_bad_credentials_get_401_empty_object_and_change_nothing(ll, path, headers):
    body = {"events": [event()]} if path == EVENTS else []

    response = ll.client.post(path, json=body, headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {}
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 0


def test_validate_app_answers_200_for_the_token_and_401_otherwise(ll):
    good = ll.client.get(
        f"/api/v1/applications/{CLIENT_ID}/validate-app/", headers=AUTH
    )
    unknown_app = ll.client.get("/api/v1/applications/nope/validate-app/", headers=AUTH)
    bad_token = ll.client.get(
        f"/api/v1/applications/{CLIENT_ID}/validate-app/",
        headers={"Authorization": "Bearer nope"},
    )

    assert (good.status_code, good.get_json()) == (200, {})
    assert (unknown_app.status_code, unknown_app.get_json()) == (401, {})
    assert (bad_token.status_code, bad_token.get_json()) == (401, {})


def test_segment_events_answers_202_empty_object(ll):
    response = ll.send(event())

    assert response.get_json() == {}


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({}, "$", "events is required"),
        ({"events": {}}, "$.events", "Expected: array, given: object"),
        ({"events": []}, "$.events", "at least 1 items"),
        ({"events": ["x"]}, "$.events[0]", "Expected: object, given: string"),
        (
            {"events": [{"event_type": "track", "timestamp": "t", "custom_id": "c"}]},
            "$.events[0]",
            "event_name is required",
        ),
        (
            {"events": [{"event_name": "A", "event_type": "track", "custom_id": "c"}]},
            "$.events[0]",
            "timestamp is required",
        ),
        (
            {"events": [event(event_name=5)]},
            "$.events[0].event_name",
            "Expected: string, given: integer",
        ),
        (
            {"events": [event(properties=[1])]},
            "$.events[0].properties",
            "Expected: object, given: array",
        ),
        (
            {"events": [event(livelike_profile_id="not-a-uuid")]},
            "$.events[0].livelike_profile_id",
            "is not a valid UUID",
        ),
        (
            {"events": [event(timestamp="yesterday")]},
            "$.events[0].timestamp",
            "date-time",
        ),
        (
            {"events": [event(colour="red")]},
            "$.events[0]",
            "Additional property colour is not allowed",
        ),
        (
            {"events": [event(user=None)]},
            "$.events[0]",
            "`livelike_profile_id` or `custom_id` or `segment_user_id` is required",
        ),
    ],
)
def test_bad_bodies_get_400_with_the_reason_and_json_path(ll, body, path, words):
    response = ll.client.post(EVENTS, json=body, headers=AUTH)

    assert response.status_code == 400
    error = response.get_json()
    assert error["path"] == path
    assert words in error["message"]
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 0


def test_a_body_that_is_not_json_gets_400(ll):
    response = ll.client.post(
        EVENTS, data=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert response.get_json()["path"] == "$"


def test_an_unknown_profile_fails_the_whole_request_and_applies_nothing(ll):
    missing = "00000000-0000-4000-8000-000000000000"

    response = ll.client.post(
        EVENTS,
        json={"events": [event(), event(user=None, livelike_profile_id=missing)]},
        headers=AUTH,
    )

    assert response.status_code == 404
    assert response.get_json()["path"] == "$.events[1].livelike_profile_id"
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 0
    assert ll.count("SELECT COUNT(*) FROM ll_transaction") == 0
    assert ll.count("SELECT COUNT(*) FROM ll_outbox") == 0
    assert ll.count("SELECT COUNT(*) FROM ll_profile WHERE seeded = 0") == 0


def test_several_events_in_one_body_are_all_applied(ll):
    ll.send(event(user="a"), event(user="b"), event(user=None, livelike_profile_id=ADA))

    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 3


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"audience_id": "a"}, "$"),
        ([{"audience_id": "a", "audience_name": "n", "timestamp": "t"}], "$[0]"),
        (
            [
                {
                    "audience_id": "a",
                    "audience_name": "n",
                    "action": "yes",
                    "timestamp": "t",
                }
            ],
            "$[0].action",
        ),
    ],
)
def test_bad_audience_bodies_get_400_with_the_path(ll, body, path):
    response = ll.client.post(AUDIENCE, json=body, headers=AUTH)

    assert response.status_code == 400
    assert response.get_json()["path"] == path


def test_audience_sync_answers_200(ll):
    item = {
        "audience_id": "aud_vip",
        "audience_name": "vip",
        "action": True,
        "timestamp": "2025-07-02T16:26:57.511Z",
        "user_id": "900",
    }

    response = ll.client.post(AUDIENCE, json=[item], headers=AUTH)

    assert response.status_code == 200


def test_received_requests_are_queryable_with_status_and_body(ll):
    ll.send(event(user="logged"))
    ll.client.post(EVENTS, json={}, headers=AUTH)

    everything = ll.client.get("/_emulator/requests").get_json()["requests"]
    rejected = ll.client.get("/_emulator/requests?status=400").get_json()["requests"]

    assert [r["status"] for r in everything] == [202, 400]
    assert everything[0]["body"]["events"][0]["segment_user_id"] == "logged"
    assert everything[0]["client_id"] == CLIENT_ID
    assert [r["seq"] for r in rejected] == [everything[1]["seq"]]


def test_stats_count_requests_by_route_and_status(ll):
    ll.send(event())
    ll.client.post(EVENTS, json={}, headers=AUTH)

    stats = ll.client.get("/_emulator/stats").get_json()

    assert stats["requests_by_route"]["segment-events"] == {"202": 1, "400": 1}
    assert stats["invoked_actions"] == 1


def test_reset_forgets_state_but_keeps_configured_profiles(ll):
    ll.send(event(user="temp"), event(user=None, livelike_profile_id=ADA))

    assert ll.client.post("/_emulator/reset").status_code == 200

    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 0
    assert ll.count("SELECT COUNT(*) FROM ll_request") == 0
    assert [r["id"] for r in ll.db.query("SELECT id FROM ll_profile")] == [
        ADA,
        "8a3c1c1e-9a57-4a8c-9f8e-0d3b8e1f2a77",
    ] or ll.count("SELECT COUNT(*) FROM ll_profile") == 2
    assert ll.balance(ADA) == 0


def test_read_routes_need_a_token(ll):
    response = ll.client.get("/api/v1/reward-transactions/")

    assert response.status_code == 401
    assert response.get_json() == {}


def test_bad_query_parameters_get_400(ll):
    response = ll.client.get("/api/v1/reward-transactions/?page=0", headers=AUTH)

    assert response.status_code == 400
    assert response.get_json()["path"] == "$.query.page"


def test_the_openapi_document_is_served(ll):
    response = ll.client.get("/_emulator/openapi.json")

    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def test_the_requests_query_can_wait_for_a_request_to_arrive(ll):
    import threading

    answers: list = []
    started = threading.Event()

    def wait_for_it() -> None:
        client = ll.app.test_client()
        started.set()
        answers.append(
            client.get("/_emulator/requests?path=segment-events&wait=20").get_json()
        )

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    started.wait(5)
    ll.send(event(user="awaited"))
    waiter.join(20)

    assert answers, "the waiting query never answered"
    [received] = answers[0]["requests"]
    assert received["body"]["events"][0]["segment_user_id"] == "awaited"

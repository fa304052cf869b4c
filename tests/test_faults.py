"""Fault injection: rules from the control API and the config, on a real server."""

from __future__ import annotations

import threading

import pytest
import requests

from emulator.config import ConfigError
from emulator.web import faults
from emulator.web.server import ServiceServer
from tests.livelike_helpers import AUTH, EVENTS, event, make_livelike, stack_config

VALIDATE = "/api/v1/applications/demo-client-id/validate-app/"


@pytest.fixture
def ll():
    return make_livelike()


@pytest.fixture
def server(ll):
    running = ServiceServer("livelike", ll.app, threads=4).start()
    yield running
    running.stop()


def _add(ll, **rule) -> dict:
    response = ll.client.post("/_emulator/faults", json=rule)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("status", [500, 503])
def test_a_status_rule_answers_that_status_and_the_app_sees_nothing(ll, status):
    _add(ll, method="POST", path="*/segment-events/", status=status)

    response = ll.client.post(EVENTS, json={"events": [event()]}, headers=AUTH)

    assert response.status_code == status
    assert response.get_json()["code"] == "fault_injected"
    assert ll.count("SELECT COUNT(*) FROM ll_invoked_action") == 0


def test_429_carries_retry_after(ll):
    _add(ll, path="*/segment-events/", status=429, retry_after=7)

    response = ll.client.post(EVENTS, json={"events": [event()]}, headers=AUTH)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_a_rule_only_matches_its_method(ll):
    _add(ll, method="POST", path=VALIDATE, status=500)

    assert ll.client.get(VALIDATE, headers=AUTH).status_code == 200


def test_fail_n_times_then_succeed(ll):
    _add(ll, path="*/segment-events/", status=503, times=2)

    statuses = [
        ll.client.post(EVENTS, json={"events": [event()]}, headers=AUTH).status_code
        for _ in range(4)
    ]

    assert statuses == [503, 503, 202, 202]
    listed = ll.client.get("/_emulator/faults").get_json()["faults"]
    assert listed[0]["applied"] == 2
    assert listed[0]["remaining"] == 0


def _statuses_with_seed(seed: int) -> list[int]:
    ll = make_livelike()
    _add(ll, path=VALIDATE, status=500, probability=0.5, seed=seed)
    return [ll.client.get(VALIDATE, headers=AUTH).status_code for _ in range(40)]


def test_a_seeded_probability_is_reproducible_and_partial():
    first = _statuses_with_seed(7)
    again = _statuses_with_seed(7)

    assert first == again
    assert 5 < first.count(500) < 35
    assert set(first) == {200, 500}


def test_the_control_routes_are_never_faulted(ll):
    _add(ll, path="*", status=500)

    assert ll.client.get("/_emulator/health").status_code == 200
    assert ll.client.get("/_emulator/faults").status_code == 200


def test_rules_are_listed_deleted_and_cleared(ll):
    rule = _add(ll, id="flaky", path=VALIDATE, status=500)
    _add(ll, id="other", path=VALIDATE, status=503)

    assert rule["id"] == "flaky"
    assert ll.client.delete("/_emulator/faults/flaky").status_code == 204
    assert ll.client.delete("/_emulator/faults/flaky").status_code == 404
    assert [
        r["id"] for r in ll.client.get("/_emulator/faults").get_json()["faults"]
    ] == ["other"]
    assert ll.client.delete("/_emulator/faults").get_json() == {"faults": []}
    assert ll.client.get(VALIDATE, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"path": "*"}, "$"),
        ({"status": 200}, "$.status"),
        ({"status": 500, "method": "FETCH"}, "$.method"),
        ({"status": 500, "probability": 2}, "$.probability"),
        ({"status": 500, "drop": True}, "$.drop"),
        ({"status": 500, "colour": "red"}, "$.colour"),
        ({"status": 500, "times": 0}, "$.times"),
        ({"delay_ms": 30_001}, "$.delay_ms"),
        ({"delay_ms": 120_000, "status": 503}, "$.delay_ms"),
        ({"status": 500, "id": "a/b"}, "$.id"),
        ({"status": 500, "id": "a b"}, "$.id"),
        ({"status": 500, "id": 7}, "$.id"),
    ],
)
def test_bad_rules_get_400_with_the_path(ll, rule, path):
    response = ll.client.post("/_emulator/faults", json=rule)

    assert response.status_code == 400
    assert response.get_json()["path"] == path


def test_rules_come_from_the_config_and_survive_clear():
    # the `faults` list inside the service's own section of the stack YAML
    config = stack_config(faults=[{"path": VALIDATE, "status": 503, "times": 1}])
    ll = make_livelike(config)
    first = ll.client.get(VALIDATE, headers=AUTH).status_code
    second = ll.client.get(VALIDATE, headers=AUTH).status_code

    faults.clear(ll.app)

    assert (first, second) == (503, 200)
    assert ll.client.get(VALIDATE, headers=AUTH).status_code == 503
    assert ll.client.get("/_emulator/faults").get_json()["faults"][0]["origin"] == (
        "config"
    )


def test_a_bad_config_rule_is_a_config_error_with_its_path():
    raw = {"faults": {"segment": [{"path": "/v1/batch", "status": "soon"}]}}

    with pytest.raises(ConfigError) as error:
        faults.rules_from_config(raw, "segment")

    assert error.value.path == "$.faults.segment[0].status"


def test_a_dropped_connection_gets_no_response(ll, server):
    _add(ll, path=VALIDATE, drop=True, times=1)

    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + VALIDATE, headers=AUTH, timeout=5)
    after = requests.get(server.url + VALIDATE, headers=AUTH, timeout=5)

    assert after.status_code == 200


def test_a_delay_does_not_block_other_requests(ll, server):
    _add(ll, path="*/segment-events/", delay_ms=3000, status=503)
    slow_done = threading.Event()
    slow_status: list[int] = []

    def slow() -> None:
        response = requests.post(
            server.url + EVENTS, json={"events": [event()]}, headers=AUTH, timeout=10
        )
        slow_status.append(response.status_code)
        slow_done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    ll.db.wait_for(  # the slow request has reached the server and is held
        lambda: ll.client.get("/_emulator/faults").get_json()["faults"][0]["applied"],
        timeout=5,
        interval=0.05,
    )
    fast = requests.get(server.url + VALIDATE, headers=AUTH, timeout=10)
    fast_finished_first = not slow_done.is_set()
    thread.join(10)

    assert fast.status_code == 200
    assert fast_finished_first
    assert slow_status == [503]


def test_stack_yaml_faults_apply_to_both_services_and_deliveries_recover():
    import copy

    from segment.analytics import Client

    from emulator.config import load_config, parse_config
    from emulator.livelike import models
    from emulator.stack import Stack

    raw = copy.deepcopy(load_config().raw)
    raw["faults"] = {
        "segment": [{"method": "POST", "path": "/v1/batch", "status": 503, "times": 1}],
        "livelike": [{"path": "*/segment-events/", "status": 503, "times": 2}],
    }
    stack = Stack(parse_config(raw), store=":memory:").start()
    try:
        first = requests.post(
            stack.segment_url + "/v1/batch",
            json={"batch": []},
            auth=("seglike-demo-app-write-key-00001", ""),
            timeout=5,
        )
        client = Client(
            "seglike-demo-app-write-key-00001",
            host=stack.segment_url,
            sync_mode=True,
            max_retries=1,
        )
        client.track("faulted-fan", "Poll Voted", {"poll_id": "p1"})

        statuses = stack.db.wait_for(
            lambda: (
                [
                    r["status"]
                    for r in models.received_requests(
                        stack.db, path_contains="segment-events"
                    )
                ]
                if models.received_requests(stack.db, status=202)
                else None
            ),
            timeout=30,
            interval=0.5,
        )
        balance = stack.db.query("SELECT SUM(balance) FROM ll_balance")[0][0]
    finally:
        stack.stop()

    assert first.status_code == 503
    # faulted requests are recorded too, with the rule that answered them
    assert statuses == [503, 503, 202]
    assert balance == 10


def test_a_bad_fault_in_the_stack_yaml_fails_at_load_with_file_and_path(tmp_path):
    import yaml

    from emulator.config import load_config

    raw = load_config().raw
    raw["faults"] = {"livelike": [{"path": "*", "drop": "yes"}]}
    file = tmp_path / "stack.yaml"
    file.write_text(yaml.safe_dump(raw))

    with pytest.raises(ConfigError) as error:
        load_config(file)

    assert error.value.path == "$.faults.livelike[0].drop"
    assert error.value.file == file


def test_a_delay_over_the_cap_says_why(ll):
    response = ll.client.post("/_emulator/faults", json={"delay_ms": 120_000})

    assert response.status_code == 400
    assert "at most 30000" in response.get_json()["message"]


def test_a_rule_with_a_dotted_id_is_deleted_alone(ll):
    _add(ll, id="slow.v1-batch_2", path="/v1/batch", status=500)
    _add(ll, id="other", path="/v1/track", status=500)

    response = ll.client.delete("/_emulator/faults/slow.v1-batch_2")

    assert response.status_code == 204
    left = ll.client.get("/_emulator/faults").get_json()["faults"]
    assert [rule["id"] for rule in left] == ["other"]


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"status": 500, "probability": NaN}', b"{"],
)
def test_a_fault_body_that_is_not_strict_json_is_a_400(ll, body):
    response = ll.client.post(
        "/_emulator/faults", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert ll.client.get("/_emulator/faults").get_json()["faults"] == []


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"faults": [1, 2]}, "$.faults"),
        ({"faults": "segment"}, "$.faults"),
        ({"faults": {"segmnt": []}}, "$.faults.segmnt"),
    ],
)
def test_a_faults_section_of_the_wrong_shape_is_a_config_error(raw, path):
    with pytest.raises(ConfigError) as error:
        faults.rules_from_config(raw, "livelike")

    assert error.value.path == path


def test_a_request_answered_by_a_rule_is_recorded_with_the_rule(ll):
    _add(ll, id="five-oh-three", path="*/segment-events/", status=503, times=1)

    ll.client.post(EVENTS, json={"events": [event()]}, headers=AUTH)
    ll.client.post(EVENTS, json={"events": [event()]}, headers=AUTH)

    logged = ll.client.get("/_emulator/requests").get_json()["requests"]
    assert [(r["status"], r["fault_rule"]) for r in logged] == [
        (503, "five-oh-three"),
        (202, None),
    ]


def test_a_dropped_request_is_recorded_with_the_rule_and_no_status(ll, server):
    _add(ll, id="cut", path=VALIDATE, drop=True, times=1)

    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + VALIDATE, headers=AUTH, timeout=5)

    logged = ll.client.get("/_emulator/requests").get_json()["requests"]
    assert [(r["status"], r["fault_rule"]) for r in logged] == [(None, "cut")]

"""Override points and the seeded generator, as a user's conftest uses them."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "stack.yaml"


def test_conftest_overrides_config_and_seed_and_wait_for_waits(pytester):
    custom = CONFIG.read_text().replace(
        "name: demo-app\n    write_key: seglike-demo-app-write-key-00001",
        "name: my-app\n    write_key: my-app-write-key-0000000000000001",
    )
    assert custom != CONFIG.read_text()
    (pytester.path / "stack.yaml").write_text(custom)
    pytester.makeconftest(
        """
        from pathlib import Path
        import pytest

        @pytest.fixture(scope="session")
        def emulator_config_file():
            return Path(__file__).parent / "stack.yaml"

        @pytest.fixture(scope="session")
        def emulator_seed():
            return 42
        """
    )
    pytester.makepyfile(
        """
        import threading

        def test_the_configured_source_is_used(segment):
            assert segment.sources == {
                "my-app": "my-app-write-key-0000000000000001",
                "livelike": "seglike-livelike-source-key-0001",
            }
            assert segment.write_key == "my-app-write-key-0000000000000001"

        def test_event_factory_is_seeded_and_knows_the_profiles(event_factory):
            assert event_factory.seed == 42
            linked = {u.livelike.custom_id for u in event_factory.users if u.livelike}
            assert "fan-0001" in linked

        def test_wait_for_returns_once_a_background_send_lands(segment):
            client = segment.client()
            sender = threading.Thread(
                target=client.track, args=("fan-9", "Article Read")
            )
            sender.start()

            [message] = segment.wait_for(event="Article Read", timeout=10)
            sender.join()

            assert message["userId"] == "fan-9"
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=3)


def test_generated_events_are_accepted_by_the_emulator(pytester):
    pytester.makepyfile(
        """
        def test_send_generated(segment, event_factory):
            import requests

            batch = list(event_factory.messages(20))
            response = requests.post(
                f"{segment.url}/v1/batch",
                json={"batch": batch},
                auth=(segment.write_key, ""),
                timeout=10,
            )

            assert response.status_code == 200
            assert len(segment.messages()) == 20
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_strict_mode_reports_tracking_plan_violations(pytester):
    config = CONFIG.read_text().replace(
        "write_key: seglike-demo-app-write-key-00001\n",
        "write_key: seglike-demo-app-write-key-00001\n"
        "    tracking_plan: ecommerce-v2\n",
        1,
    )
    assert "tracking_plan: ecommerce-v2" in config
    (pytester.path / "stack.yaml").write_text(config)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.emulator_strict
        def test_order_without_its_id(segment):
            segment.client().track("fan-1", "Order Completed", {"revenue": 9.5})

            segment.assert_received(event="Order Completed")  # accepted, yet...
        """
    )

    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--emulator-config", "stack.yaml"
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolation: The traffic of this test breaks its contract*",
            "*(missing) at $.properties.order_id*",
        ]
    )

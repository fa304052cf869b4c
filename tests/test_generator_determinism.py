"""Same seed and options, same bytes; different seeds, different streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from emulator.generator import BASE_TIME, EventFactory, generate


def dumps(messages) -> list[str]:
    return [json.dumps(message, sort_keys=False) for message in messages]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_same_seed_same_bytes(seed):
    first = dumps(generate(400, seed=seed, invalid_rate=0.1))
    second = dumps(generate(400, seed=seed, invalid_rate=0.1))

    assert first == second


def test_different_seeds_differ():
    assert dumps(generate(50, seed=1)) != dumps(generate(50, seed=2))


def test_count_is_exact_and_a_prefix_of_a_longer_run():
    short = dumps(generate(120, seed=4, users=10))
    long = dumps(generate(300, seed=4, users=10))

    assert len(short) == 120
    assert long[:120] == short


def test_time_starts_at_the_fixed_base_not_now():
    messages = list(generate(200, seed=3))
    days = {message["timestamp"][:10] for message in messages}

    assert min(days) == BASE_TIME.date().isoformat()
    assert all(day.startswith("2026-") for day in days)


def test_near_misses_never_shift_the_positive_events():
    clean = list(EventFactory(9, users=20).stream(600))
    mixed = list(EventFactory(9, users=20, invalid_rate=0.3).stream(600))

    replaced = [i for i, event in enumerate(mixed) if event.expect is not None]
    assert 100 < len(replaced) < 260
    for index, event in enumerate(mixed):
        if event.expect is None:
            assert event.message == clean[index].message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"users": 0}, "users must be at least 1"),
        ({"invalid_rate": 1.5}, "invalid_rate must be between 0 and 1"),
    ],
)
def test_bad_options_are_refused_with_a_sentence(options, message):
    with pytest.raises(ValueError, match=message):
        EventFactory(0, **options)


def test_same_bytes_across_processes_and_hash_seeds():
    """Nothing may depend on set order or str hashing, which vary per process."""
    outputs = []
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "emulator",
                "generate",
                "-n",
                "800",
                "--seed",
                "9",
                "--invalid-rate",
                "0.1",
                "--plan",
                "ecommerce-v2",
            ],
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True,
        )
        outputs.append(result.stdout)

    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 800


def test_each_stream_of_a_factory_starts_from_the_beginning():
    factory = EventFactory(12, users=15, invalid_rate=0.1, plan="video")
    first = [event.message for event in factory.stream(300)]
    second = [event.message for event in factory.stream(300)]

    assert dumps(first) == dumps(second)
    assert dumps(first) == dumps(
        EventFactory(12, users=15, invalid_rate=0.1, plan="video").messages(300)
    )

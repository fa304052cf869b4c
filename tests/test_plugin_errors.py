"""The collector of errors raised in the emulator's threads."""

from __future__ import annotations

import logging
import threading

import pytest
import requests

from emulator.pytest_plugin.errors import ErrorCollector, ServerError


@pytest.fixture
def collector():
    installed = ErrorCollector().install()
    yield installed
    installed.uninstall()


def log_from_thread(logger: str, error: BaseException) -> None:
    def fail():
        try:
            raise error
        except BaseException:
            logging.getLogger(logger).exception("worker step failed")

    thread = threading.Thread(target=fail, name="seglike-pipeline")
    thread.start()
    thread.join()


def test_an_unexpected_exception_is_raised_with_its_thread_and_traceback(collector):
    log_from_thread("emulator.actions.pipeline", KeyError("cursor"))

    with pytest.raises(ServerError) as raised:
        collector.raise_collected()

    text = str(raised.value)
    assert "--- seglike-pipeline (emulator.actions.pipeline): worker step" in text
    assert "KeyError: 'cursor'" in text
    assert isinstance(raised.value.__cause__, KeyError)
    collector.raise_collected()  # taken: nothing left to raise


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("peer went away"),
        TimeoutError("slow"),
        requests.ReadTimeout("fault delay"),
    ],
    ids=type,
)
def test_network_errors_from_injected_faults_are_not_bugs(collector, error):
    log_from_thread("emulator.actions.pipeline", error)

    assert collector.take() == []


def test_errors_outside_the_emulator_or_without_a_traceback_are_ignored(collector):
    log_from_thread("someone.else", KeyError("x"))
    logging.getLogger("emulator.segment").error("delivery failed status=500")

    assert collector.take() == []


# The collector hands the exception on to pytest's own hook, which warns too.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_uncaught_exception_in_a_thread_is_collected(collector):
    def crash():
        raise RuntimeError("worker died")

    thread = threading.Thread(target=crash, name="seglike-source")
    thread.start()
    thread.join()

    [error] = collector.take()
    assert error.where == "seglike-source"
    assert "RuntimeError: worker died" in error.details

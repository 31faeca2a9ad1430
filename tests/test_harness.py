"""The harness's own checks: waits fail with what they waited for."""

import pytest

from tests.workers import poll, wait_until


def test_wait_until_fails_naming_what_it_waited_for():
    assert poll(lambda: True, timeout=0)
    assert not poll(lambda: False, timeout=0.05, interval=0.01)
    with pytest.raises(AssertionError, match="waiting for the impossible"):
        wait_until(lambda: False, "the impossible", timeout=0.05, interval=0.01)

"""The audits' arithmetic against published values."""

import pytest

from safeguards.stats import cohen_kappa, wilson_interval


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson, no continuity
        # correction): 81/263 → 0.2553 to 0.3662; 15/148 → 0.0624 to 0.1605; 0/20 → 0 to 0.1611.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe(successes, n, low, high):
    got_low, got_high = wilson_interval(successes, n)
    assert got_low == pytest.approx(low, abs=1e-4)
    assert got_high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)  # all right: n / (n + z²) = 10 / 13.8415
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_cohen_kappa_matches_the_textbook_example():
    # 50 items: both yes 20, first yes / second no 5, first no / second yes 10, both no 15 → kappa 0.4
    # (the worked example of Cohen's kappa on Wikipedia: p_o = 0.7, p_e = 0.5).
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_cohen_kappa_edges():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "a")] * 3) is None  # every label the same: chance agreement is total
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)

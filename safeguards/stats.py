"""The quality audits' arithmetic: Wilson score intervals for audited accuracy and Cohen's kappa for the
agreement between the first decision and the audit's. Pure functions, tested against published values."""

import math
from collections import Counter
from collections.abc import Hashable, Iterable

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes / n` ((0, 1) when nothing was audited)."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie between 0 and n ({successes} of {n})")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters' labels over the same items (None without items or when chance
    agreement is total, where kappa is undefined)."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first.keys() | second.keys()) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)

"""Small sampling helpers shared by the feed generators."""

from __future__ import annotations

import math
import random


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal approximation for large ones."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k

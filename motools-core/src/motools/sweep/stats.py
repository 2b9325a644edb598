"""Statistics across replicates without scipy: mean, standard error, t confidence intervals.

Student's t quantiles come from the regularized incomplete beta function (continued
fraction, as in Numerical Recipes) inverted by bisection; exact to ~1e-10.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Any


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbeta = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbeta) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbeta) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (e.g. ``t_quantile(0.975, 2) = 4.303``)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"df must be positive, got {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


def describe(values: Iterable[Any], confidence: float = 0.95) -> dict[str, Any]:
    """``n``, ``mean``, ``std`` (sample), ``sem`` and the t confidence interval of ``values``.

    ``None`` and NaN are ignored.  With one value the spread is unknown: ``std``,
    ``sem`` and the interval are NaN.
    """
    xs = [
        float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))
    ]
    n = len(xs)
    nan = float("nan")
    if n == 0:
        return {"n": 0, "mean": nan, "std": nan, "sem": nan, "ci_low": nan, "ci_high": nan}
    mean = math.fsum(xs) / n
    if n == 1:
        return {"n": 1, "mean": mean, "std": nan, "sem": nan, "ci_low": nan, "ci_high": nan}
    if min(xs) == max(xs):  # exactly no spread (not 1e-17 of rounding noise)
        return {"n": n, "mean": xs[0], "std": 0.0, "sem": 0.0, "ci_low": xs[0], "ci_high": xs[0]}
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    sem = std / math.sqrt(n)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sem
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "sem": sem,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


def clip_to_unit_interval(stats: dict[str, Any], values: Iterable[Any]) -> dict[str, Any]:
    """Clip ``ci_low``/``ci_high`` to [0, 1] when every value lies in [0, 1].

    A t interval is symmetric, so for a proportion (accuracy) near 0 or 1 it would reach
    impossible values.
    """
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if nums and all(0.0 <= v <= 1.0 for v in nums):
        stats = dict(stats)
        if isinstance(stats.get("ci_low"), float) and stats["ci_low"] == stats["ci_low"]:
            stats["ci_low"] = max(stats["ci_low"], 0.0)
        if isinstance(stats.get("ci_high"), float) and stats["ci_high"] == stats["ci_high"]:
            stats["ci_high"] = min(stats["ci_high"], 1.0)
    return stats

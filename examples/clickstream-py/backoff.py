"""Exponential backoff with full jitter: retry n waits uniformly in [0, min(cap, base * 2**n)).

Without the jitter, every client that failed together retries together, and a recovering
service meets the same wave again (AWS Architecture Blog, "Exponential Backoff And Jitter").
"""
import random as _random

BASE_S = 0.1
CAP_S = 5.0


def ceiling(attempt, base=BASE_S, cap=CAP_S):
    """The ceiling of the wait before retry `attempt` (0 for the first retry)."""
    # 2 ** attempt grows without bound in Python (no overflow), min() gives the cap.
    return min(cap, base * 2 ** max(0, min(attempt, 64)))


def full_jitter(attempt, base=BASE_S, cap=CAP_S, random=_random.random):
    """Uniform in [0, ceiling); `random` is random.random unless a test gives its own."""
    return random() * ceiling(attempt, base, cap)

"""Backoff with full jitter stays within its bounds; the breaker's state machine."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backoff  # noqa: E402
from breaker import CircuitBreaker  # noqa: E402


class BackoffTest(unittest.TestCase):
    def test_ceilings(self):
        self.assertEqual([backoff.ceiling(n, 0.1, 5.0) for n in (0, 1, 2, 3, 5, 6, 100, 5000)], [0.1, 0.2, 0.4, 0.8, 3.2, 5.0, 5.0, 5.0])

    def test_full_jitter_bounds(self):
        self.assertEqual(backoff.full_jitter(3, 0.1, 5.0, random=lambda: 0.0), 0.0)
        self.assertLess(backoff.full_jitter(3, 0.1, 5.0, random=lambda: 0.999999), 0.8)
        draws = [backoff.full_jitter(4, 0.1, 5.0) for _ in range(5000)]
        self.assertGreaterEqual(min(draws), 0.0)
        self.assertLess(max(draws), 1.6)
        self.assertGreater(max(draws) - min(draws), 1.2, "spread over the range, not a fixed delay")


class BreakerTest(unittest.TestCase):
    def test_state_machine(self):
        now = [0.0]
        b = CircuitBreaker("kinesis", failure_threshold=3, open_s=1.0, now=lambda: now[0])
        self.assertEqual(b.state(), "closed")
        b.failure()
        b.failure()
        self.assertEqual(b.state(), "closed", "two failures are not enough")
        b.success()
        b.failure()
        b.failure()
        self.assertEqual(b.state(), "closed", "a success resets the count")
        b.failure()
        self.assertEqual(b.state(), "open")
        self.assertEqual(b.opens, 1)
        self.assertFalse(b.allow())
        self.assertEqual(b.retry_at(), 1.0)
        now[0] = 0.999
        self.assertFalse(b.allow())
        now[0] = 1.0
        self.assertEqual(b.state(), "half-open")
        self.assertTrue(b.allow(), "the trial goes")
        self.assertFalse(b.allow(), "and only the trial")
        b.failure()
        self.assertEqual(b.state(), "open", "a failed trial opens it again")
        self.assertEqual(b.opens, 2)
        self.assertEqual(b.retry_at(), 2.0)
        now[0] = 2.0
        self.assertTrue(b.allow())
        b.success()
        self.assertEqual(b.state(), "closed")
        self.assertTrue(b.allow())
        self.assertTrue(b.allow())

    def test_a_late_failure_does_not_extend_the_open_time(self):
        now = [0.0]
        b = CircuitBreaker("cloudwatch", failure_threshold=1, open_s=1.0, now=lambda: now[0])
        b.failure()
        now[0] = 0.5
        b.failure()
        self.assertEqual(b.retry_at(), 1.0)
        self.assertEqual(b.opens, 1)


if __name__ == "__main__":
    unittest.main()

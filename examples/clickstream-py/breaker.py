"""A circuit breaker around one dependency (Kinesis, CloudWatch).

Closed: calls go through; `failure_threshold` consecutive failures open it. Open: no call goes
for `open_s`, so a failing dependency is not hammered and callers answer at once. Then half-open:
one trial call; its success closes the breaker, its failure opens it again.
"""
import threading
import time


class CircuitBreaker:
    def __init__(self, name, failure_threshold=3, open_s=2.0, now=time.monotonic):
        self.name = name
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self._now = now
        self._lock = threading.Lock()
        self._failures = 0
        self._opened = False
        self._opened_at = 0.0
        self._trial = False
        self.opens = 0

    def state(self):
        if not self._opened:
            return "closed"
        return "half-open" if self._now() - self._opened_at >= self.open_s else "open"

    def allow(self):
        """May a call go now? In half-open only one (the trial) until it reports back."""
        with self._lock:
            s = self.state()
            if s == "closed":
                return True
            if s == "open" or self._trial:
                return False
            self._trial = True
            return True

    def retry_at(self):
        return self._opened_at + self.open_s if self._opened else self._now()

    def success(self):
        with self._lock:
            self._failures = 0
            self._opened = False
            self._trial = False

    def failure(self):
        with self._lock:
            self._failures += 1
            trial, self._trial = self._trial, False
            if trial or (not self._opened and self._failures >= self.failure_threshold):
                self.opens += 1
                self._opened = True
                self._opened_at = self._now()

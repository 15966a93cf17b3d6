"""The background shipper of the resilient variant.

Takes the oldest spooled events, sends them (PutRecords, up to 500 a call) and moves the spool's
durable offset past those that reached the stream. A failed call counts against the breaker and
waits a full-jitter backoff; while the breaker is open nothing is sent (the events wait on disk).
A call that stored only some records advances the offset to the first refused one: the rest go
again (at-least-once, in order).
"""
import threading
import time

import backoff


class Shipper:
    def __init__(self, spool, send, breaker, batch_size=500, idle_s=1.0, base_s=backoff.BASE_S, cap_s=backoff.CAP_S,
                 random=None, now=time.monotonic, on_shipped=None, on_error=None):
        """`send(events)` returns how many of the first events were stored (all: len(events))."""
        self.spool = spool
        self.send = send
        self.breaker = breaker
        self.batch_size = batch_size
        self.idle_s = idle_s
        self.base_s = base_s
        self.cap_s = cap_s
        self.random = random
        self.now = now
        self.on_shipped = on_shipped
        self.on_error = on_error
        self.attempt = 0
        self.idle = False  # the last pass found nothing to ship: an append may end its wait
        self.shipped = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = None

    def step(self):
        """One pass: ships one batch if it may. Returns the seconds to wait before the next pass."""
        batch = self.spool.unshipped(self.batch_size)
        self.idle = not batch
        if self.idle:
            return self.idle_s
        if not self.breaker.allow():
            return max(0.001, self.breaker.retry_at() - self.now())
        try:
            stored = max(0, min(len(batch), self.send(batch)))
        except Exception as err:  # any failure of the call: the events stay on disk
            if self.on_error:
                self.on_error(err)
            stored = 0
        if stored > 0:
            self.spool.mark_shipped(stored)
            self.shipped += stored
            if self.on_shipped:
                self.on_shipped([e["id"] for e in batch[:stored]])
        if stored == len(batch):
            self.breaker.success()
            self.attempt = 0
            return 0
        self.failures += 1
        # A call that stored some records was answered: the breaker hears of it as a success.
        if stored == 0:
            self.breaker.failure()
        else:
            self.breaker.success()
        kwargs = {"random": self.random} if self.random else {}
        wait = backoff.full_jitter(self.attempt, self.base_s, self.cap_s, **kwargs)
        self.attempt += 1
        return wait

    def _run(self):
        while not self._stop.is_set():
            wait = self.step()
            if wait <= 0:
                continue
            if self.idle:
                # New events wake an idle shipper (at once if one came since the pass).
                self.spool.wait_for_events(wait)
            else:
                self._stop.wait(wait)  # a backing-off one keeps its wait

    def start(self):
        self._thread = threading.Thread(target=self._run, name="shipper", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self.spool.wake()
        if self._thread:
            self._thread.join(timeout=5)

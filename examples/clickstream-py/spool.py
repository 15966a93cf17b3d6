"""A durable local spool: an event is acknowledged only once it is on disk.

Two files in the spool directory:

  events.log  one JSON event per line, appended and fsynced before the caller is answered. Never
              rewritten: it is also the ledger of every event this service acknowledged.
  shipped     the byte offset in events.log up to which events reached Kinesis, replaced
              atomically (temporary file, fsync, rename, fsync of the directory).

After a crash, opening the spool drops a torn last line (its fsync never returned, so it was never
acknowledged) and the shipper resumes from `shipped`: events between the last shipped offset and
the crash are sent again, so delivery is at-least-once (a reader may see an id twice).
"""
import json
import os
import threading


class Spool:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.log_file = os.path.join(directory, "events.log")
        self.shipped_file = os.path.join(directory, "shipped")
        self._lock = threading.Lock()
        self._appended = threading.Condition(self._lock)
        self._pending = []  # [(event, end offset)] not shipped yet, in order
        self._ids = []  # every acknowledged id, in order (the ledger)
        fd = os.open(self.log_file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        with open(self.log_file, "rb") as f:
            data = f.read()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            os.ftruncate(fd, complete)
            os.fsync(fd)
        self._fd = fd
        self._size = complete
        try:
            with open(self.shipped_file) as f:
                self._shipped = min(complete, int(f.read().strip() or 0))
        except (OSError, ValueError):
            self._shipped = 0
        start = 0
        while start < complete:
            nl = data.index(b"\n", start)
            event = json.loads(data[start:nl])
            self._ids.append(event["id"])
            if nl + 1 > self._shipped:
                self._pending.append((event, nl + 1))
            start = nl + 1

    def append(self, event):
        """Returns once the event is on disk (fsynced): only then may it be acknowledged."""
        line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
        with self._lock:
            os.write(self._fd, line)
            os.fsync(self._fd)
            self._size += len(line)
            self._pending.append((event, self._size))
            self._ids.append(event["id"])
            self._appended.notify_all()

    def wait_for_events(self, timeout):
        """Blocks until something is appended or `timeout` seconds passed (the idle shipper)."""
        with self._lock:
            if not self._pending:
                self._appended.wait(timeout)

    def wake(self):
        with self._lock:
            self._appended.notify_all()

    def unshipped(self, n):
        with self._lock:
            return [e for e, _ in self._pending[:n]]

    @property
    def backlog(self):
        return len(self._pending)

    @property
    def backlog_bytes(self):
        return self._size - self._shipped

    def mark_shipped(self, n):
        """The first `n` unshipped events reached the stream: the durable offset moves past them."""
        if n <= 0:
            return
        with self._lock:
            done = self._pending[:n]
            del self._pending[:n]
            self._shipped = done[-1][1]
            tmp = self.shipped_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(self._shipped))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.shipped_file)
            dfd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def acknowledged(self):
        with self._lock:
            return list(self._ids)

    def close(self):
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

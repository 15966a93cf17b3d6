"""The spool: durable appends in order, replay after a crash, a torn last line dropped."""
import json
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from spool import Spool  # noqa: E402


def ev(i):
    return {"id": f"e{i}", "user": f"user-{i % 3}", "page": f"/p/{i}"}


class SpoolTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def ids(self, events):
        return [e["id"] for e in events]

    def test_appends_are_on_disk_in_order(self):
        s = Spool(self.dir)
        for i in range(5):
            s.append(ev(i))
        with open(os.path.join(self.dir, "events.log")) as f:
            lines = f.read().splitlines()
        self.assertEqual([json.loads(line)["id"] for line in lines], ["e0", "e1", "e2", "e3", "e4"])
        self.assertEqual(s.acknowledged(), ["e0", "e1", "e2", "e3", "e4"])
        self.assertEqual(self.ids(s.unshipped(2)), ["e0", "e1"])
        s.mark_shipped(2)
        self.assertEqual(s.backlog, 3)
        self.assertEqual(self.ids(s.unshipped(10)), ["e2", "e3", "e4"])
        with open(os.path.join(self.dir, "shipped")) as f:
            self.assertEqual(int(f.read()), len(("\n".join(lines[:2]) + "\n").encode()))
        s.close()

    def test_concurrent_appends_are_whole_lines(self):
        s = Spool(self.dir)
        threads = [threading.Thread(target=lambda i=i: s.append(ev(i))) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s.close()
        again = Spool(self.dir)
        self.assertEqual(sorted(again.acknowledged()), sorted(f"e{i}" for i in range(20)))
        self.assertEqual(again.acknowledged(), [e["id"] for e in again.unshipped(100)], "the ledger and the backlog in the same order")
        again.close()

    def test_replay_after_a_crash(self):
        a = Spool(self.dir)
        for i in range(6):
            a.append(ev(i))
        a.mark_shipped(4)
        # A crash: no close.
        b = Spool(self.dir)
        self.assertEqual(self.ids(b.unshipped(10)), ["e4", "e5"], "only the unshipped ones, in order")
        self.assertEqual(b.acknowledged(), [f"e{i}" for i in range(6)], "every acknowledged id")
        b.append(ev(6))
        self.assertEqual(self.ids(b.unshipped(10)), ["e4", "e5", "e6"])
        b.mark_shipped(3)
        c = Spool(self.dir)
        self.assertEqual(c.backlog, 0)
        self.assertEqual(len(c.acknowledged()), 7)
        for s in (a, b, c):
            s.close()

    def test_a_torn_last_line_is_dropped(self):
        a = Spool(self.dir)
        a.append(ev(0))
        a.append(ev(1))
        a.close()
        with open(os.path.join(self.dir, "events.log"), "a") as f:
            f.write('{"id":"e2","us')
        b = Spool(self.dir)
        self.assertEqual(b.acknowledged(), ["e0", "e1"])
        b.append(ev(3))
        b.close()
        c = Spool(self.dir)
        self.assertEqual(c.acknowledged(), ["e0", "e1", "e3"], "the next append starts on a clean line")
        self.assertEqual(self.ids(c.unshipped(10)), ["e0", "e1", "e3"])
        c.close()

    def test_a_shipped_offset_past_the_end_replays_nothing(self):
        a = Spool(self.dir)
        a.append(ev(0))
        a.close()
        with open(os.path.join(self.dir, "shipped"), "w") as f:
            f.write("999999")
        b = Spool(self.dir)
        self.assertEqual(b.backlog, 0)
        b.close()


if __name__ == "__main__":
    unittest.main()


class CrashTest(unittest.TestCase):
    def test_a_killed_process_loses_no_acknowledged_event(self):
        """SIGKILL while appending: every id printed after its append returned is in the spool."""
        import signal
        import subprocess

        here = os.path.dirname(os.path.abspath(__file__))
        with tempfile.TemporaryDirectory() as d:
            code = (
                "import sys; sys.path.insert(0, sys.argv[1]); from spool import Spool\n"
                "s = Spool(sys.argv[2]); i = 0\n"
                "while True:\n"
                "    s.append({'id': f'e{i}', 'pad': 'x' * 200}); print(f'e{i}', flush=True); i += 1\n"
            )
            p = subprocess.Popen([sys.executable, "-c", code, here, d], stdout=subprocess.PIPE, text=True)
            acked = []
            while len(acked) < 300:
                acked.append(p.stdout.readline().strip())
            p.send_signal(signal.SIGKILL)
            rest = p.communicate()[0]
            acked += [line for line in rest.splitlines() if line]
            s = Spool(d)
            ledger = set(s.acknowledged())
            self.assertEqual([i for i in acked if i not in ledger], [])
            self.assertEqual(s.backlog, len(ledger))
            s.close()

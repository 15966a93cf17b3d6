"""The shipper against a fake Kinesis; the service's routes in process with fake boto3 clients."""
import json
import os
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import app as clickstream  # noqa: E402
from aws import SignIn  # noqa: E402
from breaker import CircuitBreaker  # noqa: E402
from shipper import Shipper  # noqa: E402
from spool import Spool  # noqa: E402


def ev(i):
    return {"id": f"e{i}", "user": f"user-{i % 3}"}


class Boom(Exception):
    pass


class ShipperTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.spool = Spool(self._tmp.name)

    def tearDown(self):
        self.spool.close()
        self._tmp.cleanup()

    def test_order_backoff_breaker_and_drain(self):
        for i in range(7):
            self.spool.append(ev(i))
        now = [0.0]
        failing = [True]
        sent, shipped = [], []

        def send(batch):
            if failing[0]:
                raise Boom("InternalFailure")
            sent.append([e["id"] for e in batch])
            return len(batch)

        b = CircuitBreaker("kinesis", failure_threshold=2, open_s=3.0, now=lambda: now[0])
        s = Shipper(self.spool, send, b, batch_size=3, random=lambda: 0.5, now=lambda: now[0], on_shipped=shipped.extend)
        self.assertAlmostEqual(s.step(), 0.05, msg="first failure: half of the 100 ms ceiling")
        self.assertAlmostEqual(s.step(), 0.1, msg="second: half of 200 ms; the breaker opens")
        self.assertEqual(b.state(), "open")
        self.assertAlmostEqual(s.step(), 3.0, msg="open: nothing sent until it may try again")
        now[0] = 3.0
        failing[0] = False
        self.assertEqual(s.step(), 0)
        self.assertEqual(b.state(), "closed")
        s.step()
        s.step()
        self.assertEqual(sent, [["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6"]])
        self.assertEqual(shipped, [f"e{i}" for i in range(7)])
        self.assertEqual(self.spool.backlog, 0)
        self.assertEqual(s.failures, 2)

    def test_a_partly_stored_batch_sends_the_rest_again(self):
        for i in range(4):
            self.spool.append(ev(i))
        sent = []

        def send(batch):
            sent.append([e["id"] for e in batch])
            return 2 if len(sent) == 1 else len(batch)

        s = Shipper(self.spool, send, CircuitBreaker("kinesis"), random=lambda: 0.0)
        s.step()
        self.assertEqual(self.spool.backlog, 2)
        s.step()
        self.assertEqual(sent, [["e0", "e1", "e2", "e3"], ["e2", "e3"]])

    def test_started_it_ships_what_is_appended(self):
        got = []
        s = Shipper(self.spool, lambda batch: got.extend(e["id"] for e in batch) or len(batch), CircuitBreaker("kinesis"), idle_s=5.0)
        s.start()
        self.spool.append(ev(1))
        self.spool.append(ev(2))
        deadline = time.monotonic() + 2
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        s.stop()
        self.assertEqual(got, ["e1", "e2"], "an append wakes the idle shipper")


class FakeAws:
    """kinesis, cloudwatch and cognito-idp in one object, as the service calls them."""

    def __init__(self):
        self.kinesis_down = False
        self.cloudwatch_down = False
        self.records = []
        self.metrics = []
        self.sign_ins = 0
        self.lock = threading.Lock()

    def _fail(self, op):
        raise Boom(f"{op} failed")

    def initiate_auth(self, **kw):
        self.sign_ins += 1
        import base64

        payload = base64.urlsafe_b64encode(json.dumps({"sub": "sub-1"}).encode()).decode().rstrip("=")
        return {"AuthenticationResult": {"IdToken": f"h.{payload}.s", "ExpiresIn": 3600}}

    def describe_stream_summary(self, StreamName):
        return {"StreamDescriptionSummary": {"StreamName": StreamName, "StreamStatus": "ACTIVE"}}

    def list_metrics(self, **kw):
        return {"Metrics": []}

    def put_record(self, StreamName, PartitionKey, Data):
        if self.kinesis_down:
            self._fail("PutRecord")
        with self.lock:
            self.records.append(json.loads(Data)["id"])
        return {"SequenceNumber": "1"}

    def put_records(self, StreamName, Records):
        if self.kinesis_down:
            self._fail("PutRecords")
        with self.lock:
            self.records.extend(json.loads(r["Data"])["id"] for r in Records)
        return {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1"} for _ in Records]}

    def put_metric_data(self, Namespace, MetricData):
        if self.cloudwatch_down:
            self._fail("PutMetricData")
        self.metrics.append(MetricData[0]["Value"])


class ServiceTest(unittest.TestCase):
    def start(self, variant):
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)
        self.fake = FakeAws()
        app = clickstream.Clickstream(variant, (self.fake, self.fake, self.fake), "clickstream", 5, "Clickstream", self._tmp.name, ship_wait_s=0.3)
        server = ThreadingHTTPServer(("127.0.0.1", 0), clickstream.handler_for(app))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        app.start(SignIn(self.fake, {"pool_id": "p", "client_id": "c", "password": "x"}))
        self.addCleanup(lambda: (server.shutdown(), server.server_close(), app.stop()))
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.app = app

    def post(self, user):
        req = urllib.request.Request(self.url + "/events", data=json.dumps({"user": user, "page": "/home"}).encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=5) as r:
            return r.read().decode()

    def test_naive_fails_its_caller_when_kinesis_fails(self):
        self.start("naive")
        self.assertEqual(self.post(1)[0], 200)
        self.post(6)
        # user-0 signed in at start (the warm-up), user-1 on its first click, not again for user 6.
        self.assertEqual(self.fake.sign_ins, 2, "user 6 is user-1 again: its token is cached")
        self.assertEqual(self.fake.metrics, [1, 1], "one datapoint per event, on the request path")
        self.fake.kinesis_down = True
        status, body = self.post(2)
        self.assertEqual(status, 503)
        self.assertEqual(body["error"], "Boom")
        self.assertEqual(json.loads(self.get("/acknowledged"))["ids"], self.fake.records)
        m = self.get("/metrics")
        self.assertIn('lab_server_requests_total{outcome="ok"} 2', m)
        self.assertIn('lab_server_requests_total{outcome="server_error"} 1', m)

    def test_resilient_answers_from_its_spool_and_loses_nothing(self):
        self.start("resilient")
        status, body = self.post(1)
        self.assertEqual(status, 200, "healthy: answered once in the stream")
        self.assertEqual(self.fake.records, [body["id"]])
        self.fake.kinesis_down = True
        self.fake.cloudwatch_down = True
        statuses = [self.post(i)[0] for i in range(8)]
        self.assertEqual(statuses, [202] * 8, "every click accepted while Kinesis and CloudWatch fail")
        self.assertRegex(self.get("/metrics"), r'clickstream_breaker_state\{dependency="kinesis",state="(open|half-open)"\} 1')
        self.fake.kinesis_down = False
        self.fake.cloudwatch_down = False
        acked = json.loads(self.get("/acknowledged"))["ids"]
        self.assertEqual(len(acked), 9)
        deadline = time.monotonic() + 10
        while any(i not in self.fake.records for i in acked) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual([i for i in acked if i not in self.fake.records], [], "every acknowledged event reached the stream")
        while sum(self.fake.metrics) < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(sum(self.fake.metrics), 9, "the metric counted every event, aggregated")


if __name__ == "__main__":
    unittest.main()

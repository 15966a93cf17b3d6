#!/usr/bin/env python3
"""The clickstream service in Python with boto3: POST /events records a user's click.

  naive      sign the user in (Cognito, token cached), PutRecord to Kinesis, PutMetricData to
             CloudWatch, then 200. Any failure is the caller's: 503.
  resilient  sign in from the cache (a user Cognito cannot sign in now is recorded unverified),
             append the event to the durable spool (fsync), then answer: 200 once the shipper has
             it in Kinesis (within SHIP_WAIT_MS), 202 at once while Kinesis is failing (degraded:
             the event waits on disk). The metric is aggregated and flushed in the background.

Both list the event ids they acknowledged (answered 2xx) at GET /acknowledged. Run:
    python3 app.py naive|resilient      (or CLICKSTREAM_VARIANT=...; PORT, HOST as given)
"""
import json
import os
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aws  # noqa: E402
from breaker import CircuitBreaker  # noqa: E402
from shipper import Shipper  # noqa: E402
from spool import Spool  # noqa: E402

SLOW_REQUEST_S = 1.0
CONTROL = ("/health", "/metrics", "/acknowledged")


def outcome_of(status, finished):
    """The lab's served-request outcomes (services/kit/served-requests.ts, re-done here)."""
    if not finished:
        return "aborted"
    return "server_error" if status >= 500 else "client_error" if status >= 400 else "ok"


class Served:
    """lab_server_requests_total{outcome} and friends: what the service saw of its own requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = {"ok": 0, "client_error": 0, "server_error": 0, "aborted": 0}
        self.slow = 0
        self.in_flight = {}

    def begin(self):
        token = object()
        with self.lock:
            self.in_flight[token] = time.monotonic()
        return token

    def end(self, token, status, finished):
        with self.lock:
            started = self.in_flight.pop(token)
            self.outcomes[outcome_of(status, finished)] += 1
            if time.monotonic() - started > SLOW_REQUEST_S:
                self.slow += 1

    def text(self):
        with self.lock:
            oldest = min(self.in_flight.values(), default=None)
            lines = ["# TYPE lab_server_requests_total counter"]
            lines += [f'lab_server_requests_total{{outcome="{o}"}} {n}' for o, n in self.outcomes.items()]
            lines += [
                "# TYPE lab_server_slow_requests_total counter",
                f"lab_server_slow_requests_total {self.slow}",
                "# TYPE lab_server_in_flight gauge",
                f"lab_server_in_flight {len(self.in_flight)}",
                "# TYPE lab_server_oldest_in_flight_seconds gauge",
                f"lab_server_oldest_in_flight_seconds {0 if oldest is None else time.monotonic() - oldest}",
            ]
        return "\n".join(lines) + "\n"


class MetricAggregator:
    """The resilient metric: requests add to a count; a flush sends it in one PutMetricData through
    its breaker; a failed or refused flush keeps the count (aggregated), nothing ever waits."""

    def __init__(self, send, breaker):
        self.send = send
        self.breaker = breaker
        self.pending = 0
        self.sent = 0
        self.lock = threading.Lock()

    def add(self, n=1):
        with self.lock:
            self.pending += n

    def flush(self):
        with self.lock:
            count, self.pending = self.pending, 0
        if count == 0:
            return
        if not self.breaker.allow():
            self.add(count)
            return
        try:
            self.send(count)
            self.sent += count
            self.breaker.success()
        except Exception:
            self.add(count)
            self.breaker.failure()


class Clickstream:
    def __init__(self, variant, clients, stream, users, namespace, spool_dir=None, ship_wait_s=0.5, spool_max_bytes=256 * 1024 * 1024):
        self.variant = variant
        self.kinesis, self.cloudwatch, self.cognito = clients
        self.stream = stream
        self.users = users
        self.namespace = namespace
        self.ship_wait_s = ship_wait_s
        self.spool_max_bytes = spool_max_bytes
        self.spool_dir = spool_dir
        self.served = Served()
        self.events = {"acknowledged": 0, "answered_spooled": 0, "failed": 0, "unverified": 0}
        self.acked = []
        self.lock = threading.Lock()
        self.ready = False
        self.sign_in = None
        self.spool = self.shipper = self.aggregator = None
        self.waiting = {}
        self._stop = threading.Event()

    def put_metric(self, count):
        self.cloudwatch.put_metric_data(Namespace=self.namespace, MetricData=[{"MetricName": "Events", "Value": count, "Unit": "Count"}])

    def start(self, sign_in):
        self.sign_in = sign_in
        if self.variant == "resilient":
            self.spool = Spool(self.spool_dir or "spool")
            # Events a previous process acknowledged are still acknowledged: the ledger is the spool.
            self.acked.extend(self.spool.acknowledged())

            def send(batch):
                out = self.kinesis.put_records(
                    StreamName=self.stream,
                    Records=[{"PartitionKey": str(e["user"]), "Data": json.dumps(e).encode()} for e in batch],
                )
                # Stored up to the first refused record (in order); the rest go again.
                for i, r in enumerate(out.get("Records", [])):
                    if r.get("ErrorCode"):
                        return i
                return len(batch)

            self.shipper = Shipper(self.spool, send, CircuitBreaker("kinesis", 3, 2.0), on_shipped=self._shipped)
            self.shipper.start()
            self.aggregator = MetricAggregator(self.put_metric, CircuitBreaker("cloudwatch", 3, 5.0))
            threading.Thread(target=self._flush_loop, name="metrics", daemon=True).start()
        self._warm_up()
        self.ready = True

    def _warm_up(self):
        # A boto3 client loads its service model, endpoint rules and signer on its first call (about
        # a CPU-second each on a busy machine): make those calls before /health says ready, not on
        # the first users' clicks. Each is a read; a failure here is only logged.
        calls = (
            ("kinesis", lambda: self.kinesis.describe_stream_summary(StreamName=self.stream)),
            ("cloudwatch", lambda: self.cloudwatch.list_metrics(Namespace=self.namespace)),
            ("cognito", lambda: self.sign_in.session("user-0")),
        )
        for name, call in calls:
            try:
                call()
            except Exception as err:
                log("warm-up call failed", service=name, error=str(err))

    def stop(self):
        self._stop.set()
        if self.shipper:
            self.shipper.stop()
        if self.spool:
            self.spool.close()

    def _flush_loop(self):
        while not self._stop.wait(1.0):
            self.aggregator.flush()

    def _shipped(self, ids):
        for i in ids:
            ev = self.waiting.get(i)
            if ev:
                ev.set()

    def _event(self, body, user, session):
        return {
            "id": str(uuid.uuid4()),
            "user": user,
            "sub": session["sub"] if session else None,
            "auth": "verified" if session else "unverified",
            "page": body.get("page") if isinstance(body.get("page"), str) else "/",
            "at": int(time.time() * 1000),
        }

    def _ack(self, event_id):
        with self.lock:
            self.acked.append(event_id)
            self.events["acknowledged"] += 1

    def naive(self, body, user):
        session = self.sign_in.session(user)
        event = self._event(body, user, session)
        self.kinesis.put_record(StreamName=self.stream, PartitionKey=user, Data=json.dumps(event).encode())
        self.put_metric(1)
        self._ack(event["id"])
        return 200, {"id": event["id"]}

    def resilient(self, body, user):
        session = self.sign_in.cached(user)
        if not session:
            try:  # Cognito's answer or its failure within the client's 1 s timeout; the click is kept either way
                session = self.sign_in.session(user)
            except Exception:
                session = None
        event = self._event(body, user, session)
        if not session:
            self.events["unverified"] += 1
        if self.spool.backlog_bytes > self.spool_max_bytes:
            return 503, {"error": "SpoolFull"}
        degraded = self.shipper.breaker.state() != "closed" or self.spool.backlog > 500
        shipped = None
        if not degraded:
            shipped = threading.Event()
            self.waiting[event["id"]] = shipped
        try:
            self.spool.append(event)
        finally:
            if shipped is None:
                self.waiting.pop(event["id"], None)
        self._ack(event["id"])
        self.aggregator.add(1)
        if shipped is not None:
            in_time = shipped.wait(self.ship_wait_s)
            self.waiting.pop(event["id"], None)
            if in_time:
                return 200, {"id": event["id"]}
        with self.lock:
            self.events["answered_spooled"] += 1
        return 202, {"id": event["id"], "spooled": True}

    def post_event(self, raw):
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return 400, {"error": "BadRequest", "message": 'a JSON object {"user": n, "page": "..."}'}
        try:
            n = abs(int(float(body.get("user") or 0)))
        except (TypeError, ValueError):
            n = 0
        user = f"user-{n % self.users}"
        try:
            return (self.naive if self.variant == "naive" else self.resilient)(body, user)
        except Exception as err:
            with self.lock:
                self.events["failed"] += 1
            code = getattr(err, "response", {}).get("Error", {}).get("Code") or type(err).__name__
            return 503, {"error": code, "message": str(err)}

    def metrics_text(self):
        rows = [(f'clickstream_events_total{{outcome="{k}"}}', v) for k, v in self.events.items()]
        rows.append(("clickstream_sign_ins_total", self.sign_in.calls if self.sign_in else 0))
        if self.spool:
            rows += [
                ("clickstream_spool_backlog", self.spool.backlog),
                ("clickstream_spool_backlog_bytes", self.spool.backlog_bytes),
                ("clickstream_shipped_total", self.shipper.shipped),
                ("clickstream_ship_failures_total", self.shipper.failures),
                ("clickstream_metric_pending", self.aggregator.pending),
            ]
            for b in (self.shipper.breaker, self.aggregator.breaker):
                for s in ("closed", "open", "half-open"):
                    rows.append((f'clickstream_breaker_state{{dependency="{b.name}",state="{s}"}}', 1 if b.state() == s else 0))
                rows.append((f'clickstream_breaker_opens_total{{dependency="{b.name}"}}', b.opens))
        return self.served.text() + "".join(f"{k} {v}\n" for k, v in rows)


def handler_for(app):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # one line per request would drown the log
            pass

        def _send(self, status, body, content_type="application/json"):
            data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self, fn):
            path = self.path.split("?")[0]
            token = None if path in CONTROL else app.served.begin()
            status, finished = 500, False
            try:
                status, body, content_type = fn(path)
                self._send(status, body, content_type)
                finished = True
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                if token is not None:
                    app.served.end(token, status, finished)

        def do_GET(self):
            def route(path):
                if path == "/health":
                    state = {"ready": app.ready, "variant": app.variant, "backlog": app.spool.backlog if app.spool else 0}
                    return (200 if app.ready else 503), state, "application/json"
                if path == "/metrics":
                    return 200, app.metrics_text(), "text/plain; version=0.0.4"
                if path == "/acknowledged":
                    with app.lock:
                        ids = list(app.acked)
                    return 200, {"count": len(ids), "ids": ids}, "application/json"
                return 404, {"error": "NotFound"}, "application/json"

            self._serve(route)

        def do_POST(self):
            def route(path):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if path != "/events":
                    return 404, {"error": "NotFound"}, "application/json"
                if not app.ready:
                    return 503, {"error": "NotReady"}, "application/json"
                status, body = app.post_event(raw)
                return status, body, "application/json"

            self._serve(route)

    return Handler


def log(msg, **extra):
    print(json.dumps({"msg": msg, **extra}), flush=True)


def main(argv):
    variant = argv[1] if len(argv) > 1 else os.environ.get("CLICKSTREAM_VARIANT", "naive")
    if variant not in ("naive", "resilient"):
        print(f"clickstream: the variant must be naive or resilient, got {variant!r}", file=sys.stderr)
        return 2
    stream = os.environ.get("STREAM", "clickstream")
    users = int(os.environ.get("USERS", "20"))
    clients = tuple(aws.client(s, variant) for s in ("kinesis", "cloudwatch", "cognito-idp"))
    # One spool per lab run (a run marks its processes with OUTAGE_LAB_RUN_ID): a new run's lab has
    # none of an older run's streams. By hand, spool/manual survives restarts and is replayed.
    spool_dir = os.environ.get("SPOOL_DIR") or os.path.join("spool", os.environ.get("OUTAGE_LAB_RUN_ID", "manual"))
    app = Clickstream(variant, clients, stream, users, os.environ.get("METRIC_NAMESPACE", "Clickstream"), spool_dir,
                      float(os.environ.get("SHIP_WAIT_MS", "500")) / 1000, int(os.environ.get("SPOOL_MAX_BYTES", str(256 * 1024 * 1024))))
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), port), handler_for(app))
    server.daemon_threads = True
    log("listening", variant=variant, port=port, kinesis=aws.endpoint_url("kinesis"))

    def set_up():
        try:
            # Setup goes through boto3's default client (with retries) whatever the variant.
            aws.ensure_stream(aws.client("kinesis", "naive"), stream, int(os.environ.get("SHARDS", "1")))
            log("stream active", stream=stream)
            pool = aws.ensure_users(aws.client("cognito-idp", "naive"), os.environ.get("USER_POOL", "clickstream"), users,
                                    os.environ.get("USER_PASSWORD", "Clickstream-Passw0rd!"))
            log("users ready", userPool=pool["pool_id"], users=users)
            app.start(aws.SignIn(clients[2], pool))
        except Exception as err:
            print(f"clickstream: setup failed: {err}", file=sys.stderr, flush=True)
            os._exit(3)

    threading.Thread(target=set_up, name="setup", daemon=True).start()

    def stop(signum, _frame):
        log("stopping", variant=variant, signal=signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

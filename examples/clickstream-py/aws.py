"""The AWS side: boto3 clients pointed by the environment, and what the service needs to exist.

boto3 before 1.28 (Debian's python3-boto3 is 1.26) ignores AWS_ENDPOINT_URL_<SERVICE>, so the
endpoints are read here and given as endpoint_url; newer boto3 would read the same variables.
Nothing else names the lab: against AWS, leave the variables unset.
"""
import base64
import json
import os
import threading
import time

import boto3
from botocore.config import Config

# The suffix of AWS_ENDPOINT_URL_<SERVICE> for each boto3 service name.
ENDPOINT_VARIABLES = {"kinesis": "KINESIS", "cloudwatch": "CLOUDWATCH", "cognito-idp": "COGNITO_IDENTITY_PROVIDER"}


def endpoint_url(service, env=os.environ):
    return env.get("AWS_ENDPOINT_URL_" + ENDPOINT_VARIABLES[service]) or env.get("AWS_ENDPOINT_URL") or None


def client(service, variant):
    """naive: boto3's defaults (its retries, its 60 s timeouts). resilient: one attempt and a short
    timeout per call, because its own shipper retries with backoff behind a breaker; SDK retries
    under it would multiply the load on a failing service."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if variant == "naive":
        config = Config()
    else:
        timeout = 2 if service == "kinesis" else 1
        config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url(service), config=config)


def _eventually(what, deadline, step):
    while True:
        try:
            return step()
        except Exception as err:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: {type(err).__name__}: {err}") from err
            time.sleep(0.25)


def _code(err):
    return getattr(err, "response", {}).get("Error", {}).get("Code")


def ensure_stream(kinesis, stream, shards, timeout_s=60):
    """CreateStream unless it exists, then wait until it is ACTIVE."""
    deadline = time.monotonic() + timeout_s

    def create():
        try:
            kinesis.create_stream(StreamName=stream, ShardCount=shards)
        except Exception as err:
            if _code(err) != "ResourceInUseException":
                raise

    _eventually("CreateStream", deadline, create)

    def active():
        s = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
        if s != "ACTIVE":
            raise RuntimeError(f"status {s}")

    _eventually(f"stream {stream} ACTIVE", deadline, active)


def ensure_users(cognito, name, users, password, timeout_s=60):
    """A user pool of its own with `users` users (user-0 ...) with permanent passwords, and an app
    client that allows password sign-in: what the lab's Cognito supports (CreateUserPool,
    CreateUserPoolClient, AdminCreateUser, AdminSetUserPassword; no SignUp)."""
    deadline = time.monotonic() + timeout_s
    pool_id = _eventually("CreateUserPool", deadline, lambda: cognito.create_user_pool(PoolName=name))["UserPool"]["Id"]
    client_id = _eventually(
        "CreateUserPoolClient",
        deadline,
        lambda: cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name + "-web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        ),
    )["UserPoolClient"]["ClientId"]
    for i in range(users):
        username = f"user-{i}"

        def create(username=username):
            try:
                cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
            except Exception as err:
                if _code(err) != "UsernameExistsException":
                    raise

        _eventually(f"AdminCreateUser {username}", deadline, create)
        _eventually(
            f"AdminSetUserPassword {username}",
            deadline,
            lambda username=username: cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True),
        )
    return {"pool_id": pool_id, "client_id": client_id, "password": password}


class SignIn:
    """Signs users in (InitiateAuth USER_PASSWORD_AUTH) and keeps each token until shortly before it expires."""

    def __init__(self, cognito, pool):
        self.cognito = cognito
        self.pool = pool
        self.calls = 0
        self._cache = {}
        self._lock = threading.Lock()

    def cached(self, user):
        with self._lock:
            s = self._cache.get(user)
        return s if s and s["expires_at"] > time.time() else None

    def session(self, user):
        hit = self.cached(user)
        if hit:
            return hit
        self.calls += 1
        out = self.cognito.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH", ClientId=self.pool["client_id"], AuthParameters={"USERNAME": user, "PASSWORD": self.pool["password"]}
        )["AuthenticationResult"]
        payload = out["IdToken"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        # A minute early, so a token never expires between the cache and the use.
        s = {"sub": claims["sub"], "expires_at": time.time() + out.get("ExpiresIn", 3600) - 60}
        with self._lock:
            self._cache[user] = s
        return s

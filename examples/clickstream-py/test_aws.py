"""Endpoints come from AWS_ENDPOINT_URL_<SERVICE> (read here: boto3 before 1.28 ignores them)."""
import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aws  # noqa: E402


class EndpointTest(unittest.TestCase):
    def test_service_variable_first_then_the_general_one(self):
        env = {"AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
        self.assertEqual(aws.endpoint_url("kinesis", env), "http://127.0.0.1:1")
        self.assertEqual(aws.endpoint_url("cloudwatch", env), "http://127.0.0.1:9")
        self.assertEqual(aws.endpoint_url("cognito-idp", {"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://127.0.0.1:2"}), "http://127.0.0.1:2")
        self.assertIsNone(aws.endpoint_url("kinesis", {}), "unset: the SDK's own (AWS)")

    def test_clients_use_them_whatever_the_boto3_version(self):
        env = {
            "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:4567",
            "AWS_ENDPOINT_URL_CLOUDWATCH": "http://127.0.0.1:4601",
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "http://127.0.0.1:4600",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
        }
        with mock.patch.dict(os.environ, env):
            for service, url in (("kinesis", "http://127.0.0.1:4567"), ("cloudwatch", "http://127.0.0.1:4601"), ("cognito-idp", "http://127.0.0.1:4600")):
                for variant in ("naive", "resilient"):
                    c = aws.client(service, variant)
                    self.assertEqual(c.meta.endpoint_url, url)
                    self.assertEqual(c.meta.region_name, "us-east-1")
            self.assertEqual(aws.client("kinesis", "resilient").meta.config.retries["total_max_attempts"], 1)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""The naive variant: synchronous writes with boto3's default retries."""
import sys

import app

sys.exit(app.main([sys.argv[0], "naive"]))

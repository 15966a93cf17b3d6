#!/usr/bin/env python3
"""The resilient variant: durable spool, backoff with jitter, circuit breakers, degraded mode."""
import sys

import app

sys.exit(app.main([sys.argv[0], "resilient"]))

"""Container health check: exit 0 when /healthz on TAIZHANG_METRICS_PORT answers 200."""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("TAIZHANG_METRICS_PORT", "9108")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except (urllib.error.URLError, OSError) as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)

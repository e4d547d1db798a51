"""Run the Grafana test double: python -m doubles.grafana --host 0.0.0.0 --port 3000.

Configured like the official grafana image: GF_SECURITY_ADMIN_USER (default admin) and
GF_SECURITY_ADMIN_PASSWORD (default admin), each also readable from the file that
<NAME>__FILE names; GRAFANA_IMAGE_TAG (required) is the version it reports.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

from .config import ConfigError, config_from_env
from .server import GrafanaDouble


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m doubles.grafana",
        description="Grafana 12 TEST DOUBLE for StreamLab tests (not Grafana).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="port to bind (default 3000)")
    parser.add_argument("--log-requests", action="store_true", help="log each request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = config_from_env(os.environ)
    except ConfigError as error:
        print(f"grafana-double: {error}", file=sys.stderr)
        return 2
    double = GrafanaDouble(args.host, args.port, config, log_requests=args.log_requests)
    print(
        f"grafana-double: StreamLab Grafana {config.version} TEST DOUBLE listening on "
        f"http://{args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    # As PID 1 in a container, SIGTERM is ignored unless handled.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        double.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

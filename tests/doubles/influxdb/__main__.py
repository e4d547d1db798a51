"""Run the InfluxDB test double: python -m doubles.influxdb --host 0.0.0.0 --port 8086.

Configured like the official influxdb image: DOCKER_INFLUXDB_INIT_MODE=setup with
DOCKER_INFLUXDB_INIT_USERNAME, _PASSWORD, _ORG, _BUCKET, optional _RETENTION (1w, 30d,
72h; empty is infinite) and _ADMIN_TOKEN performs the initial setup at startup.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

from .config import ConfigError, DoubleConfig, config_from_env
from .server import InfluxDBDouble


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m doubles.influxdb",
        description="InfluxDB 2.7 TEST DOUBLE for StreamLab tests (not InfluxDB).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8086, help="port to bind (default 8086)")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help="largest write body after decompression; larger ones get 413 (default: no limit)",
    )
    parser.add_argument("--log-requests", action="store_true", help="log each request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = config_from_env(os.environ)
    except ConfigError as error:
        print(f"influxdb-double: {error}", file=sys.stderr)
        return 2
    config = DoubleConfig(config.version, args.max_body_bytes, config.init)
    double = InfluxDBDouble(args.host, args.port, config, log_requests=args.log_requests)
    print(
        f"influxdb-double: StreamLab InfluxDB {config.version} TEST DOUBLE listening on "
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

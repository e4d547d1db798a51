"""python -m feeds --dir datasets/feeds --host 0.0.0.0 --port 8010: serve the saved feeds."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from pathlib import Path

from .server import FeedFiles, FeedServer

log = logging.getLogger("feeds")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m feeds", description=__doc__)
    parser.add_argument(
        "--dir", type=Path, default=Path("datasets/feeds"), help="one folder per feed"
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--debug", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.dir.is_dir():
        print(
            f"feeds: {args.dir} is not a folder: pass --dir with one folder per feed",
            file=sys.stderr,
        )
        return 2
    feeds = FeedFiles(args.dir)
    server = FeedServer((args.host, args.port), feeds)
    log.info(
        "serving %s on http://%s:%d/<name>",
        ", ".join(feeds.names) or "no feeds",
        args.host,
        args.port,
    )
    # As PID 1 in a container SIGTERM would otherwise be ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt), server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m streamer: serve the control API and run every stream."""

from __future__ import annotations

import logging
import sys

from waitress import serve

from streamlab.settings import Settings, SettingsError
from streamlab.specs import SpecError, load_specs

from .app import create_app
from .config import StreamerConfig


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.load()
        config = StreamerConfig.from_settings(settings)
        specs = load_specs(config.datasets_dir, settings.values)
    except (SettingsError, SpecError) as error:
        print(f"streamer: {error}", file=sys.stderr)
        return 2
    app = create_app(config, specs)
    print(f"streamer: {len(specs)} streams, control API on http://{config.host}:{config.port}")
    try:
        serve(app, host=config.host, port=config.port, threads=8)
    finally:
        app.extensions["streamlab.manager"].stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

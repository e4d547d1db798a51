"""python -m provisioning [--only kafka,hdfs,influxdb,grafana] [--datasets DIR]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streamlab.settings import Settings, SettingsError
from streamlab.specs import SpecError, load_specs

from .config import ProvisionConfig
from .report import ProvisionError, Report
from .steps import STEPS, run_steps

EXIT_FAILED, EXIT_USAGE = 1, 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m provisioning",
        description=(
            "Idempotent set-up of the StreamLab stack: Kafka topics, HDFS folders, InfluxDB "
            "buckets and tokens, Grafana datasource and dashboards. Settings come from "
            "settings.env, overridable by environment variables. Each item is reported as "
            "created, updated or already present; a second run changes nothing."
        ),
    )
    parser.add_argument(
        "--only",
        type=_steps,
        default=list(STEPS),
        metavar="STEPS",
        help=f"comma-separated steps to run, in this order anyway: {','.join(STEPS)} (default: all)",
    )
    parser.add_argument(
        "--datasets",
        type=Path,
        metavar="DIR",
        help="folder of dataset specs (default: DATASETS_DIR from the settings)",
    )
    return parser.parse_args(argv)


def _steps(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(STEPS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown step(s) {', '.join(unknown) or '(none)'}: choose from {','.join(STEPS)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report()
    try:
        settings = Settings.load()
        config = ProvisionConfig.from_settings(settings, args.datasets)
        specs = load_specs(config.datasets_dir, settings.values)
    except (SettingsError, SpecError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    report.note(
        "provisioner", f"steps {','.join(args.only)}; {len(specs)} dataset(s): {', '.join(specs)}"
    )
    try:
        run_steps(config, specs, report, args.only)
    except ProvisionError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_FAILED
    report.note("provisioner", report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Print the epoch at which the first point of the default dataset is stored in InfluxDB.

Started by tests/e2e/run.sh before ./build_setup.sh; polls once a second until it sees one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import ROOT, Stack, wait_for

TIMEOUT_S = 2400


def main() -> int:
    stacks: list[Stack] = []  # one Stack: it keeps the read token once the provisioner wrote it

    def stored() -> bool:
        if not (ROOT / ".secrets" / "streamlab.env").exists():
            raise FileNotFoundError("no secrets yet")
        stacks[:] = stacks or [Stack.current()]
        dataset = stacks[0].settings.optional("E2E_DATASET") or "temps"
        return stacks[0].influx_count(dataset) > 0

    try:
        wait_for("the first point in InfluxDB", stored, TIMEOUT_S, every=1.0)
    except AssertionError as timed_out:
        print(f"no point within the poller's timeout: {timed_out}")
        return 1
    print(f"first_point_epoch={time.time():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

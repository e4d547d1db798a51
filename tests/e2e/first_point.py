"""Print the epoch at which the first point of the default dataset is stored in InfluxDB.

Started by tests/e2e/run.sh before ./build_setup.sh; polls once a second until it sees one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import ROOT, Stack

TIMEOUT_S = 2400


def main() -> int:
    deadline = time.monotonic() + TIMEOUT_S
    stack: Stack | None = None
    while time.monotonic() < deadline:
        try:
            if not (ROOT / ".secrets" / "streamlab.env").exists():
                raise FileNotFoundError("no secrets yet")
            # One Stack: it keeps the read token once the provisioner has written it.
            stack = stack or Stack.current()
            dataset = stack.settings.optional("E2E_DATASET") or "temps"
            if stack.influx_count(dataset) > 0:
                print(f"first_point_epoch={time.time():.3f}")
                return 0
        except Exception:  # the stack is still coming up
            pass
        time.sleep(1)
    print("no point within the poller's timeout")
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""./build_setup.sh run a second time on the running stack is harmless."""

from __future__ import annotations

import subprocess

from stack import ROOT, Stack, log

from streamlab.settings import parse_env_file


def test_build_setup_twice_changes_nothing(stack: Stack) -> None:
    # The same command as the first run: its profile and its scale (replicas by name).
    scale = parse_env_file(ROOT / ".secrets" / "scale.env")
    before = {c["Name"]: c["ID"] for c in stack.containers() if c["State"] == "running"}
    result = subprocess.run(
        [str(ROOT / "build_setup.sh"), "--profile", stack.profile, "--no-build",
         "--nodemanagers", scale["YARN_NODEMANAGERS"], "--datanodes", scale["HDFS_DATANODES"]],
        capture_output=True, text=True, timeout=900, check=False, cwd=ROOT,
    )  # fmt: skip
    print(result.stdout[-6000:], result.stderr[-3000:])
    assert result.returncode == 0
    after = {c["Name"]: c["ID"] for c in stack.containers() if c["State"] == "running"}
    log(f"running containers before {len(before)}, after {len(after)}; recreated: "
        f"{sorted(s for s in before if after.get(s) != before[s])}")  # fmt: skip
    assert after == before
    report = [line for line in result.stdout.splitlines() if line.startswith("[provisioner]")]
    changed = [line for line in report if line.endswith((": created", ": updated"))
               or ": created (" in line or ": updated (" in line]  # fmt: skip
    log(f"provisioner second run: {len(report)} lines, changed: {changed}")
    assert any("already present" in line for line in report)
    assert not changed

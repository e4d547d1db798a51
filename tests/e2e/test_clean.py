"""./clean.sh --yes leaves no container, network or volume of the project, and does not
stumble on a job container that removes itself once stopped."""

from __future__ import annotations

import subprocess

from stack import ROOT, Stack, log

LABEL = "label=com.docker.compose.project=streamlab"


def _docker_ids(*args: str) -> list[str]:
    out = subprocess.run(
        ["docker", *args, "-q", "--filter", LABEL], capture_output=True, text=True, check=True
    ).stdout
    return out.split()


def test_clean_removes_everything_of_the_project(stack: Stack) -> None:
    assert _docker_ids("ps", "-a"), "no container of the project to clean: was the stack up?"
    # Like a job ./submit.sh runs: `compose run --rm` removes it when it stops.
    image = f"streamlab/python:{stack.settings.str('STREAMLAB_VERSION')}"
    subprocess.run(
        ["docker", "run", "--detach", "--rm", "--label", LABEL.removeprefix("label="),
         "--name", "streamlab-clean-check", image, "sleep", "600"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    result = subprocess.run(
        [str(ROOT / "clean.sh"), "--yes"], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0
    left = {kind: _docker_ids(*cmd) for kind, cmd in
            {"containers": ("ps", "-a"), "networks": ("network", "ls"),
             "volumes": ("volume", "ls")}.items()}  # fmt: skip
    log(f"left after clean.sh --yes: {left}")
    assert left == {"containers": [], "networks": [], "volumes": []}

"""A one-line change in services/ rebuilds no dependency layer of the python and spark images.

Runs after build_setup.sh has built the stack's images: the build context (the project's files,
as compose sends them) is copied to a temporary folder, one comment line is appended to a file
of services/, and the image is built again the way build_setup.sh builds it (docker compose,
the same Dockerfile and build arguments, the engine's layer cache) under a test tag. The build
log goes to tests/e2e/artifacts/image-layers-<image>.log; every step before our code's COPY
(the apt packages, the locked Python dependencies, the jars, the scripts) must come from the
cache, and the code's COPY must run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from stack import ARTIFACTS, ROOT, log

from streamlab.settings import Settings

CHANGED_FILE = "services/streamlab/__init__.py"
CODE_COPY = "COPY services "
# The build arguments compose/docker-compose.yml passes each image, from settings.env.
BUILD_ARGS = {
    "python": (),
    "spark": ("SPARK_VERSION", "SCALA_BINARY_VERSION", "SPARK_KAFKA_TOKEN_PROVIDER_VERSION"),
}
# BuildKit's plain progress ("#12 [python 4/9] COPY ...", "#12 CACHED") and the classic
# builder's ("Step 4/9 : COPY ...", " ---> Using cache").
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[([^\]]*?)\s*(\d+)/(\d+)\] (.+)$")
_BUILDKIT_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) : (.+)$")


@dataclass
class Step:
    stage: str  # "" for the only or the classic builder's one sequence
    index: int
    instruction: str
    cached: bool = False


def parse_build_log(text: str, service: str) -> list[Step]:
    """The Dockerfile steps of a build log, BuildKit's (plain progress) or the classic one's."""
    buildkit: dict[str, Step] = {}
    cached: set[str] = set()
    classic: list[Step] = []
    for line in text.splitlines():
        if match := _BUILDKIT_STEP.match(line):
            stage = match.group(2).removeprefix(service).strip()
            if match.group(1) not in buildkit and not match.group(5).startswith("FROM "):
                buildkit[match.group(1)] = Step(stage, int(match.group(3)), match.group(5))
        elif match := _BUILDKIT_CACHED.match(line):
            cached.add(match.group(1))
        elif match := _CLASSIC_STEP.match(line):
            classic.append(Step("", int(match.group(1)), match.group(3)))
        elif classic and line.strip() == "---> Using cache":
            classic[-1].cached = True
    for vertex, step in buildkit.items():
        step.cached = vertex in cached
    steps = list(buildkit.values()) or [s for s in classic if not s.instruction.startswith("FROM ")]
    return sorted(steps, key=lambda s: (s.stage, s.index))


def dependency_steps(steps: list[Step]) -> tuple[Step, list[Step]]:
    """The code's COPY step and every step the image builds before it, any stage."""
    code = next((s for s in steps if s.instruction.startswith(CODE_COPY)), None)
    assert code is not None, f"no '{CODE_COPY}...' step in the build log"
    before = [s for s in steps if s.stage != code.stage or s.index < code.index]
    return code, before


def copy_build_context(destination: Path) -> None:
    """The project's files (tracked or new, not ignored) as they are in the work tree, with
    their modes and their folders' modes: what compose sends, less nothing the cache sees."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    folders: set[str] = set()
    for name in filter(None, listed):
        source = ROOT / name
        if not (source.is_file() or source.is_symlink()):
            continue  # deleted in the work tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
        folders.update(str(parent) for parent in Path(name).parents if str(parent) != ".")
    for folder in folders:
        shutil.copystat(ROOT / folder, destination / folder)


def build(image: str, context: Path, work: Path) -> str:
    settings = Settings.load(ROOT / "settings.env")
    service = {
        "image": f"streamlab-dev/layer-check-{image}:latest",
        "build": {
            "context": str(context),
            "dockerfile": f"images/{image}/Dockerfile",
            "args": {name: settings.str(name) for name in BUILD_ARGS[image]},
        },
    }
    compose_file = work / "compose.yml"
    compose_file.write_text(yaml.safe_dump({"services": {image: service}}))
    command = [
        "docker", "compose", "--project-name", "streamlab-layer-check", "--file",
        str(compose_file), "--progress", "plain", "build", image,
    ]  # fmt: skip
    log(" ".join(command))
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    finally:
        subprocess.run(["docker", "image", "rm", "--force", service["image"]], capture_output=True)
    output = result.stdout + result.stderr
    (ARTIFACTS / f"image-layers-{image}.log").write_text(output)
    assert result.returncode == 0, f"the build failed:\n{output[-3000:]}"
    return output


@pytest.mark.parametrize("image", sorted(BUILD_ARGS))
def test_a_code_change_rebuilds_no_dependency_layer(image: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = tmp_path / "context"
    copy_build_context(context)
    with (context / CHANGED_FILE).open("a") as changed:
        # Unique, so that no earlier run of this test left its layers in the cache.
        changed.write(f"# tests/e2e/test_image_layers.py: one changed line {uuid.uuid4()}\n")

    steps = parse_build_log(build(image, context, tmp_path), image)

    code, before = dependency_steps(steps)
    summary = [
        f"{'CACHED' if s.cached else 'ran   '} [{s.stage or '-'} {s.index}] {s.instruction[:110]}"
        for s in steps
    ]
    (ARTIFACTS / f"image-layers-{image}.txt").write_text("\n".join(summary) + "\n")
    log(f"{image} image after a one-line change in {CHANGED_FILE}:\n  " + "\n  ".join(summary))
    assert any("requirements.lock" in s.instruction for s in before), "no lock step found"
    rebuilt = [s.instruction[:110] for s in before if not s.cached]
    assert not rebuilt, f"{image}: steps before the code's COPY were rebuilt: {rebuilt}"
    assert not code.cached, f"{image}: the code's COPY came from the cache: was the change seen?"

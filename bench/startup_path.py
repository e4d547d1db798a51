"""The critical path of a bring-up: when each service started and became healthy, when the
provisioner finished, when the Spark job reached each of its steps, and the first point.

`ContainerEvents` follows `docker events` (start, health_status, die) from a given time,
so nothing is missed (a container's health log keeps only its last five checks);
`job_milestones` reads the spark-job container's log with Docker's timestamps. `breakdown`
puts them all in seconds after the stack was asked to start, in the order they happened.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from datetime import datetime

# Lines of the spark-job container's log that mark its steps (first match of each).
JOB_STEPS = {
    "job: submitting to the cluster": re.compile(r"entrypoint: submitting the StreamLab job"),
    "job: Spark session ready (YARN application running)": re.compile(r"Spark session ready"),
    "job: first query started": re.compile(r"sparkjob.job: query \S+ started"),
    "job: queries started": re.compile(r"sparkjob: \d+ queries running"),
    "job: every query started": re.compile(r"sparkjob: every query has started"),
}


class ContainerEvents(threading.Thread):
    """Every start, health status and exit of the stack's containers while it runs."""

    def __init__(self, since: float, project: str = "streamlab") -> None:
        super().__init__(daemon=True)
        self.since, self.project = since, project
        self.events: list[tuple[float, str, str]] = []  # (epoch s, service, what)
        self._process: subprocess.Popen | None = None

    def run(self) -> None:
        command = [
            "docker", "events", "--format", "{{json .}}", "--since", f"{self.since:.3f}",
            "--filter", "type=container", "--filter", f"label=com.docker.compose.project={self.project}",
            "--filter", "event=start", "--filter", "event=health_status", "--filter", "event=die",
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        for line in self._process.stdout:
            event = json.loads(line)
            attributes = event.get("Actor", {}).get("Attributes", {})
            service = attributes.get("com.docker.compose.service", attributes.get("name", "?"))
            what = event.get("status") or event.get("Action", "")
            if what == "die":
                what = f"exited {attributes.get('exitCode', '?')}"
            self.events.append(
                (int(event["timeNano"]) / 1e9, service, what.removeprefix("health_status: "))
            )

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()


def job_milestones(container: str, since: float) -> list[tuple[float, str]]:
    """(epoch s, step) of JOB_STEPS in the spark-job container's log from `since`, first
    match each."""
    log = subprocess.run(
        ["docker", "logs", "--timestamps", "--since", f"{since:.3f}", container],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found: dict[str, float] = {}
    for line in (log.stdout + log.stderr).splitlines():
        stamp, _, text = line.partition(" ")
        for step, pattern in JOB_STEPS.items():
            if step not in found and pattern.search(text):
                found[step] = _epoch(stamp)
    return sorted((at, step) for step, at in found.items())


def _epoch(stamp: str) -> float:
    """Docker's RFC 3339 timestamp with nanoseconds, as epoch seconds."""
    head, _, fraction = stamp.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head + "+00:00").timestamp()
    return whole + float(f"0.{fraction or 0}")


def breakdown(
    started: float,
    events: list[tuple[float, str, str]],
    milestones: list[tuple[float, str]],
    first_point: float,
) -> list[dict[str, object]]:
    """Each container's first start, first healthy and exit, the job's steps and the first
    point, in seconds after `started`, in order."""
    seen: set[tuple[str, str]] = set()
    rows: list[tuple[float, str]] = []
    for at, service, what in sorted(events):
        wanted = what in ("start", "healthy") or what.startswith("exited")
        if wanted and (service, what) not in seen:
            seen.add((service, what))
            rows.append((at, f"{service}: {what}"))
    rows.extend(milestones)
    rows.append((first_point, "first point queryable"))
    return [{"at_s": round(at - started, 1), "step": step} for at, step in sorted(rows)]

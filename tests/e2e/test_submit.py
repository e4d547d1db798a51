"""./submit.sh on the running stack (either profile), as a user runs it from the host: a
batch job to its end, a streaming job listed, spread over the nodes and killed, Ctrl-C in a
terminal, the shipped examples, and the mistakes it must name (exit 2)."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from stack import ROOT, Stack, log, wait_for

from streamlab.settings import parse_env_file

SUBMIT = str(ROOT / "submit.sh")

# Spark 4.0 on YARN in client mode: the AM's proxy filter can reach the driver while it attaches
# its UI handlers (SparkUI.attachAllHandlers does not lock what addWebUIFilter locks), and the
# driver dies at start with a ConcurrentModificationException. An upstream race, met in 2 of
# the e2e runs of 2026-12-04 and none before; the README tells users to run the job again. A
# test that meets it runs once more, which pytest reports as a rerun; any other failure fails.
pytestmark = pytest.mark.flaky(
    reruns=1, only_rerun=[r"ConcurrentModificationException|SparkUI\.attachAllHandlers"]
)
JOBS = Path(__file__).resolve().parent / "jobs"
DATASET = "temps"
# From ./submit.sh to the application RUNNING, and to a streaming job's executors up, on 2
# shared cores with the stack's own job running beside it.
RUNNING_WITHIN_S = 600.0  # a failure guard; the times are logged
ENDS_WITHIN_S = 300.0  # a failure guard


def profile_value(stack: Stack, key: str) -> str:
    """A value of the profile's wiring (compose/profiles/<profile>.env)."""
    return parse_env_file(ROOT / "compose" / "profiles" / f"{stack.profile}.env")[key]


def nodes_expected(stack: Stack) -> int:
    """NodeManagers (full) or workers (lite) the stack was brought up with."""
    if stack.profile == "full":
        return int(parse_env_file(ROOT / ".secrets" / "scale.env")["YARN_NODEMANAGERS"])
    return stack.settings.int("SPARK_WORKERS")


def submit(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SUBMIT, *args], capture_output=True, text=True, timeout=timeout, check=False,
        cwd=ROOT, stdin=subprocess.DEVNULL,
    )  # fmt: skip


class Running:
    """./submit.sh started in the background, its output collected line by line; in a
    pseudo-terminal (as a user's shell runs it) when tty is set."""

    def __init__(self, *args: str, tty: bool = False) -> None:
        self.started = time.monotonic()
        self.lines: list[str] = []
        self.tty_fd: int | None = None
        if tty:
            pid, fd = pty.fork()
            if pid == 0:  # the child: ./submit.sh on the terminal
                os.chdir(ROOT)
                os.execv(SUBMIT, [SUBMIT, *args])
            self.pid, self.tty_fd = pid, fd
            self.process: subprocess.Popen[str] | None = None
        else:
            self.process = subprocess.Popen(
                [SUBMIT, *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, start_new_session=True,
            )  # fmt: skip
            self.pid = self.process.pid
        self.returncode: int | None = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        if self.process is not None:
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
            self.returncode = self.process.wait()
            return
        buffer = b""
        while True:
            ready, _, _ = select.select([self.tty_fd], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(self.tty_fd, 65536)
            except OSError:  # the terminal closed: the child has exited
                data = b""
            if not data:
                break
            buffer += data
            *complete, buffer = buffer.split(b"\n")
            self.lines.extend(line.decode(errors="replace").rstrip("\r") for line in complete)
        _, status = os.waitpid(self.pid, 0)
        self.returncode = os.waitstatus_to_exitcode(status)

    def line(self, pattern: str) -> re.Match[str] | None:
        for line in list(self.lines):
            if match := re.search(pattern, line):
                return match
        return None

    def wait_line(self, pattern: str, timeout: float) -> re.Match[str]:
        def probe() -> re.Match[str] | None:
            if self.returncode is not None and not self.line(pattern):
                raise AssertionError(f"./submit.sh ended ({self.returncode}):\n{self.tail()}")
            return self.line(pattern)

        try:
            return wait_for(f"'{pattern}' from ./submit.sh", probe, timeout, every=0.5)
        except AssertionError:
            log(f"./submit.sh so far:\n{self.tail()}")
            raise

    def wait_end(self, timeout: float) -> int:
        self.reader.join(timeout)
        assert self.returncode is not None, f"./submit.sh still running:\n{self.tail()}"
        return self.returncode

    def ctrl_c(self) -> None:
        assert self.tty_fd is not None
        os.write(self.tty_fd, b"\x03")

    def stop(self) -> None:
        """Cleanup after a failed test: as a Ctrl-C without a terminal."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(self.pid), signal.SIGINT)
            self.reader.join(90)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.lines[-lines:])


# --- the cluster, as seen from the host -------------------------------------------------


def yarn(stack: Stack, path: str, **params: Any) -> dict[str, Any]:
    reply = requests.get(
        f"{stack.url('YARN_RESOURCEMANAGER_HTTP_PORT')}/ws/v1/cluster/{path}",
        params=params, timeout=10,
    )  # fmt: skip
    reply.raise_for_status()
    return reply.json()


def yarn_apps(stack: Stack, job: str) -> list[dict[str, Any]]:
    """The YARN applications ./submit.sh started for the job NAME (tagged streamlab-job-NAME)."""
    apps = yarn(stack, "apps", applicationTags=f"streamlab-job-{job}").get("apps") or {}
    return apps.get("app", [])


def master(stack: Stack) -> dict[str, Any]:
    return requests.get(f"{stack.url('SPARK_MASTER_UI_PORT')}/json/", timeout=10).json()


def app_state(stack: Stack, job: str, app_id: str) -> str | None:
    """The application's state in the profile's cluster manager (YARN or the master)."""
    if stack.profile == "full":
        return next((a["state"] for a in yarn_apps(stack, job) if a["id"] == app_id), None)
    info = master(stack)
    if any(a["id"] == app_id for a in info.get("activeapps", [])):
        return "RUNNING"
    return next((a["state"] for a in info.get("completedapps", []) if a["id"] == app_id), None)


def wait_running(
    stack: Stack, run: Running, job: str, app_name: str | None = None
) -> tuple[str, float]:
    """The application's id and the seconds from ./submit.sh to its RUNNING state in YARN
    (found by the job's tag) or the standalone master (by its application name, which is
    the job's name unless the file sets another)."""

    def running() -> str | None:
        if run.returncode is not None:
            raise AssertionError(f"./submit.sh ended ({run.returncode}):\n{run.tail()}")
        if stack.profile == "full":
            apps = [a for a in yarn_apps(stack, job) if a["state"] == "RUNNING"]
        else:
            apps = [a for a in master(stack).get("activeapps", [])
                    if a["name"] == (app_name or job) and a["state"] == "RUNNING"]  # fmt: skip
        return apps[0]["id"] if apps else None

    try:
        app_id = wait_for(f"{job} RUNNING", running, RUNNING_WITHIN_S, every=0.5)
    except AssertionError:
        log(f"./submit.sh so far:\n{run.tail()}")
        raise
    seconds = time.monotonic() - run.started
    log(f"{job}: ./submit.sh to {app_id} RUNNING in {seconds:.1f} s")
    return app_id, seconds


def executor_hosts(stack: Stack, run: Running, app_id: str) -> set[str]:
    """Hosts of the application's live executors, from Spark's REST API: through YARN's
    proxy (full) or the driver's UI port that ./submit.sh published (lite)."""
    if stack.profile == "full":
        base = f"{stack.url('YARN_RESOURCEMANAGER_HTTP_PORT')}/proxy/{app_id}"
    else:
        port = run.wait_line(r"Spark UI: http://[^:]+:(\d+)", 5).group(1)
        base = f"http://{stack.settings.str('BIND_ADDRESS')}:{port}"
    executors = requests.get(
        f"{base}/api/v1/applications/{app_id}/executors", timeout=10
    ).json()  # fmt: skip
    return {e["hostPort"].rsplit(":", 1)[0] for e in executors if e["id"] != "driver"}


def submit_containers() -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-a", "--filter", "label=com.docker.compose.service=submit",
         "--format", "{{.Names}}"], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.split()


def memory_of(container: str) -> str:
    return subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", container],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip


def assert_ended(stack: Stack, job: str, app_id: str) -> None:
    state = wait_for(
        f"{app_id} to end", lambda: (s := app_state(stack, job, app_id)) not in ("RUNNING", None)
        and s, 300, every=1.0,
    )  # fmt: skip
    log(f"{job}: {app_id} ended {state}; submit containers left: {submit_containers()}")
    # FAILED: the driver went before it could unregister; the application still ended
    assert state in ("FINISHED", "KILLED", "FAILED")
    assert not [c for c in submit_containers() if c == f"streamlab-submit-{job}"]


# --- mistakes: named, exit 2 --------------------------------------------------------------


def test_a_missing_file_is_named_with_exit_2() -> None:
    result = submit("jobs/no_such_job.py")
    log(f"missing file: exit {result.returncode}: {result.stderr.strip()}")
    assert result.returncode == 2
    assert "jobs/no_such_job.py: no such file" in result.stderr


def test_a_syntax_error_names_the_file_and_line_with_exit_2(stack: Stack, tmp_path: Path) -> None:
    job = tmp_path / "broken_job.py"  # any folder, as a user's file
    job.write_text("import os\n\n\ndef main(:\n    pass\n")
    result = submit(str(job))
    log(f"syntax error: exit {result.returncode}:\n{result.stderr.strip()}")
    assert result.returncode == 2
    assert f"{job}, line 4: SyntaxError" in result.stderr
    assert "nothing was submitted" in result.stderr
    if stack.profile == "full":
        assert yarn_apps(stack, "broken-job") == []
    assert submit_containers() == []


def test_a_stack_that_is_not_up_is_named_with_exit_2(stack: Stack) -> None:
    other = "lite" if stack.profile == "full" else "full"
    result = subprocess.run(
        [SUBMIT, str(JOBS / "count_raw.py")], capture_output=True, text=True, timeout=120,
        cwd=ROOT, stdin=subprocess.DEVNULL, env={**os.environ, "STREAMLAB_PROFILE": other},
    )  # fmt: skip
    log(f"profile {other} not up: exit {result.returncode}: {result.stderr.strip()}")
    assert result.returncode == 2
    assert "the stack is not up" in result.stderr and "./build_setup.sh" in result.stderr


def test_kill_of_an_unknown_job_is_exit_2() -> None:
    result = submit("--kill", "no-such-job")
    assert result.returncode == 2 and "no job named no-such-job is running" in result.stderr


# --- jobs ---------------------------------------------------------------------------------


def test_a_batch_job_runs_to_completion_with_the_stack_s_environment(stack: Stack) -> None:
    wait_for(f"rows of {DATASET} in the raw layer", lambda: stack.parquet_rows(DATASET), 600)
    started = time.monotonic()
    result = submit(str(JOBS / "count_raw.py"), DATASET)
    elapsed = time.monotonic() - started
    out = result.stdout
    log(f"count_raw: exit {result.returncode} after {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    env = dict(re.findall(r"^E2E-ENV (\w+)=(.*)$", out, re.MULTILINE))
    log(f"the job's environment: {env}")
    assert env["RAW_LAYER_URI"] == profile_value(stack, "STACK_RAW_LAYER_URI")
    assert env["CHECKPOINT_URI"] == f"{profile_value(stack, 'STACK_CHECKPOINT_URI')}/jobs/count-raw"
    assert env["SPARK_KAFKA_BOOTSTRAP"] == stack.settings.str("KAFKA_INTERNAL_BOOTSTRAP")
    assert env["INFLUX_URL"] == "http://influxdb:8086"
    assert env["INFLUX_BUCKET"] == stack.settings.str("INFLUX_BUCKET")
    assert env["INFLUX_PIPELINE_BUCKET"] == stack.settings.str("INFLUX_PIPELINE_BUCKET")
    assert "E2E-TOKEN present" in out
    rows = int(re.search(rf"^E2E-COUNT {DATASET} (\d+)$", out, re.MULTILINE).group(1))
    app_id = re.search(r"^E2E-APP (\S+)$", out, re.MULTILINE).group(1)
    log(f"count_raw: {rows} rows of {DATASET} in the raw layer, application {app_id}")
    assert rows > 0
    if stack.profile == "full":
        app = next(a for a in yarn_apps(stack, "count-raw") if a["id"] == app_id)
        log(f"count_raw in YARN: {app['state']} {app['finalStatus']}")
        assert (app["state"], app["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    assert submit_containers() == []


def test_a_streaming_job_is_listed_spread_over_the_nodes_and_killed(stack: Stack) -> None:
    job, executors = "e2e-forever", 2
    nodes = nodes_expected(stack)
    assert nodes >= 2, "tests/e2e/run.sh brings the stack up with 2 NodeManagers / workers"
    if stack.profile == "full":
        running = [n for n in yarn(stack, "nodes")["nodes"]["node"] if n["state"] == "RUNNING"]
        log(f"YARN nodes: {[(n['id'], n['numContainers']) for n in running]}")
        assert len(running) == nodes
    run = Running("--name", job, "--executors", str(executors), str(JOBS / "forever.py"), DATASET)
    try:
        app_id, _ = wait_running(stack, run, job)
        listed = submit("--list")
        log(f"./submit.sh --list:\n{listed.stdout}")
        assert listed.returncode == 0
        assert re.search(rf"^  {job}\s+Up", listed.stdout, re.MULTILINE)
        if stack.profile == "full":
            assert re.search(rf"^  {job}\s+{app_id}\s+RUNNING", listed.stdout, re.MULTILINE)
        else:
            assert re.search(rf"^  {app_id}\s+RUNNING", listed.stdout, re.MULTILINE)

        def spread() -> set[str] | None:
            hosts = executor_hosts(stack, run, app_id)
            return hosts if len(hosts) == executors else None

        hosts = wait_for(f"{executors} executors on distinct hosts", spread, RUNNING_WITHIN_S)
        driver = memory_of(f"streamlab-submit-{job}")
        log(f"{job}: executors on {sorted(hosts)}; the driver's container uses {driver}")
        run.wait_line(r"^E2E-BATCH \d+ \d+", RUNNING_WITHIN_S)
        killed = submit("--kill", job)
        log(f"./submit.sh --kill {job}: exit {killed.returncode}: {killed.stderr.strip()}")
        assert killed.returncode == 0
        log(f"{job}: the terminal's ./submit.sh ended with {run.wait_end(ENDS_WITHIN_S)}")
        assert_ended(stack, job, app_id)
    finally:
        run.stop()


def full_profile_only(stack: Stack) -> None:
    """Tests whose path is the same in both profiles run in full only (a shorter e2e)."""
    if stack.profile != "full":
        pytest.skip("the same ./submit.sh path as in the full profile, which tests it")


def test_ctrl_c_in_a_terminal_stops_the_job(stack: Stack) -> None:
    full_profile_only(stack)
    job = "e2e-ctrl-c"
    run = Running("--name", job, str(JOBS / "forever.py"), DATASET, tty=True)
    try:
        app_id, _ = wait_running(stack, run, job)
        pressed = time.monotonic()
        run.ctrl_c()
        code = run.wait_end(ENDS_WITHIN_S)
        log(f"{job}: Ctrl-C ended ./submit.sh ({code}) in {time.monotonic() - pressed:.1f} s")
        assert code != 0
        assert_ended(stack, job, app_id)
    finally:
        run.stop()


# --- the shipped examples -----------------------------------------------------------------


@pytest.mark.skipif(not (ROOT / "jobs/examples/template.py").exists(), reason="no template.py")
def test_the_template_runs_until_killed(stack: Stack) -> None:
    full_profile_only(stack)
    dataset = "sensors"
    measurement = f"{dataset}_per_minute"
    paused = stack.stream(dataset)["state"] == "paused"  # sensors is off by default
    stack.post_stream(dataset, "resume")
    run = Running(str(ROOT / "jobs/examples/template.py"), dataset)
    try:
        app_id, _ = wait_running(stack, run, "template", app_name=f"template-{dataset}")
        run.wait_line(rf"template: counting {dataset}", RUNNING_WITHIN_S)
        points = wait_for(
            f"points of {measurement}", lambda: stack.influx_count(measurement) or None,
            RUNNING_WITHIN_S, every=3.0,
        )  # fmt: skip
        log(f"template: {points} points of {measurement}; still running: {run.returncode is None}")
        assert run.returncode is None
        killed = submit("--kill", "template")
        log(f"./submit.sh --kill template: exit {killed.returncode}: {killed.stderr.strip()}")
        assert killed.returncode == 0
        run.wait_end(ENDS_WITHIN_S)
        assert_ended(stack, "template", app_id)
    finally:
        run.stop()
        if paused:
            stack.post_stream(dataset, "pause")


def _settled_raw_rows(stack: Stack, dataset: str) -> int:
    """The raw layer's rows once two reads a raw-layer trigger apart agree."""
    last = -1

    def settled() -> int | None:
        nonlocal last
        rows = stack.parquet_rows(dataset)
        done = rows if rows == last and rows > 0 else None
        last = rows
        return done

    return wait_for(f"the raw layer of {dataset} to settle", settled, 600, every=15.0)


def _keys(table: Any, tags: list[str], time_column: str) -> list[tuple]:
    columns = [table.column(name).to_pylist() for name in [*tags, time_column]]
    return list(zip(*columns, strict=True))


@pytest.mark.skipif(not (ROOT / "jobs/examples/curated.py").exists(), reason="no curated.py")
def test_curated_holds_exactly_the_distinct_rows_of_the_raw_layer(stack: Stack) -> None:
    """jobs/examples/curated.py: one row per tags and event time (the original time where
    the raw layer has one), rows without every tag left out."""
    import pyarrow.compute as pc

    from streamlab.specs import load_spec

    dataset = "idfm_stops"
    spec = load_spec(ROOT / "datasets" / f"{dataset}.yaml", stack.settings.values)
    tags = list(spec.tags)
    stack.post_stream(dataset, "pause")
    try:
        rows = _settled_raw_rows(stack, dataset)
        result = submit(str(ROOT / "jobs/examples/curated.py"), dataset)
        log(f"curated.py: exit {result.returncode}: {result.stdout.strip()[-600:]}")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        raw = stack.layer_table("raw", dataset, [*tags, "ts", "original_ts"])
        assert raw.num_rows == rows, "the raw layer changed while the stream was paused"
        event_time = pc.coalesce(raw.column("original_ts"), raw.column("ts"))
        raw = raw.append_column("event_time", event_time)
        present = [
            key for key in _keys(raw, tags, "event_time")
            if key[-1] is not None and all(value not in (None, "") for value in key[:-1])
        ]  # fmt: skip
        curated = stack.layer_table("curated", dataset, [*tags, "event_time"])
        kept = _keys(curated, tags, "event_time")
        log(f"{dataset}: raw {raw.num_rows} rows, {len(set(present))} distinct by tags and "
            f"event time; curated {len(kept)} rows")  # fmt: skip
        assert len(kept) == len(set(kept)), "the curated layer holds a duplicate"
        assert set(kept) == set(present)
    finally:
        stack.post_stream(dataset, "resume")

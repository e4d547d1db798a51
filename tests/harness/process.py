"""Plumbing shared by the harnesses that run JVM servers as local processes on 127.0.0.1."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

HOST = "127.0.0.1"


class Killable(Protocol):
    def kill(self) -> None: ...


_running: set[Killable] = set()


def track(process: Killable) -> None:
    """Kill this at interpreter exit if it is still running then."""
    _running.add(process)


def untrack(process: Killable) -> None:
    _running.discard(process)


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_running):
        process.kill()


def parent_death_guard() -> list[str]:
    """Command prefix that makes the kernel kill the child when this interpreter dies.

    atexit does not run when the interpreter itself is killed; util-linux's setpriv sets the
    parent-death signal, then execs the command.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv else []


def java_executable() -> str | None:
    return shutil.which("java")


def free_ports(count: int) -> list[int]:
    """Distinct free ports on HOST (all held open together so none repeats)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def tail(path: Path, lines: int, max_chars: int | None = None) -> str:
    """The last lines of a log file ('' if there is none), each cut to max_chars."""
    if not path.is_file():
        return ""
    last = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(line[:max_chars] for line in last)


class GroupProcess:
    """A server process leading its own process group, so a stop or a kill reaches every
    process it started; its output is appended to a log file. Tracked while it may run, so
    interpreter exit kills it."""

    def __init__(self, stop_signal: int = signal.SIGTERM) -> None:
        self.stop_signal = stop_signal  # the graceful one (influxd: SIGINT)
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode if self.popen else None

    def spawn(
        self, command: Sequence[str], log: Path, cwd: Path, env: Mapping[str, str] | None = None
    ) -> int:
        """Starts the command; returns the log's size before it, where its output begins."""
        with log.open("ab") as out:
            start = out.tell()
            # A new session makes it a process-group leader we can signal as a whole.
            self.popen = subprocess.Popen(
                [*parent_death_guard(), *command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        track(self)
        return start

    def signal(self, signum: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def stop(self, timeout: float) -> None:
        """The graceful stop signal; SIGKILL if it takes longer than timeout."""
        if self.running:
            self.signal(self.stop_signal)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        untrack(self)

    def kill(self) -> None:
        """Crash-like stop: SIGKILL, no shutdown hooks."""
        if self.running:
            self.signal(signal.SIGKILL)
            self.popen.wait()
        untrack(self)


class LocalServer:
    """A server with its files in `workdir` (made here when none is given, deleted on
    close); subclasses implement start() and stop(). A context manager: started on entry,
    closed on exit."""

    def __init__(self, workdir: Path | None, prefix: str) -> None:
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=prefix))
        self.workdir.mkdir(parents=True, exist_ok=True)

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

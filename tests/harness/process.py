"""Plumbing shared by the harnesses that run JVM servers as local processes on 127.0.0.1."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import socket
from pathlib import Path
from typing import Protocol

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

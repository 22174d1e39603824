"""What every cluster provider offers, and how long steps report progress."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from course.errors import UnusableInput


class ProviderUnavailable(UnusableInput):
    """The provider cannot run here, or a step failed; the message names step and fix."""


class Provider(Protocol):
    name: str
    context: str  # the kubeconfig context `up` writes and makes current

    def up(self) -> None: ...
    def load_images(self) -> None: ...
    def down(self) -> None: ...
    def status(self) -> list[tuple[str, str]]: ...


@contextmanager
def step(title: str, fix: str = "") -> Iterator[None]:
    """Announces a long step and its elapsed time; a failure names the step and the fix."""
    started = time.monotonic()
    print(f"==> {title}", file=sys.stderr, flush=True)
    try:
        yield
    except (subprocess.CalledProcessError, OSError) as error:
        raise ProviderUnavailable(f"step '{title}' failed after {time.monotonic() - started:.0f} s: {error}"
                                  + (f"\n    fix: {fix}" if fix else "")) from error
    print(f"    {title}: done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


_line_sink: list[Callable[[str], None]] = []  # where `output_to` sends the commands' output lines


@contextmanager
def output_to(sink: Callable[[str], None]) -> Iterator[None]:
    """Sends each line the commands of `run_streamed` print to `sink` instead of this
    process's own output (a notebook shows the latest one on a live status line)."""
    _line_sink.append(sink)
    try:
        yield
    finally:
        _line_sink.remove(sink)


def run_streamed(command: list[str], env: dict[str, str] | None = None) -> None:
    """Runs `command`, passing its output through (or to `output_to`'s sink);
    CalledProcessError on failure."""
    if not _line_sink:
        subprocess.run(command, check=True, env=env, stdin=subprocess.DEVNULL)
        return
    with subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as process:
        assert process.stdout is not None
        for line in process.stdout:
            _line_sink[-1](line.rstrip())
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)

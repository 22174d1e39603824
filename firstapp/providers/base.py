"""What every cluster provider offers, and how long steps report progress."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
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


def run_streamed(command: list[str], env: dict[str, str] | None = None) -> None:
    """Runs `command`, passing its output through; CalledProcessError on failure."""
    subprocess.run(command, check=True, env=env, stdin=subprocess.DEVNULL)

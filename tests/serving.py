"""`mockhog serve` in a subprocess on a port it picks itself (--port 0), its stdout read line by line."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STARTUP_SECONDS = 60  # a loaded CI machine takes seconds to import and seed


class Served:
    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MOCKHOG_API_KEY"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockhog", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.banner = self.line(STARTUP_SECONDS)
            found = re.search(r"http://127\.0\.0\.1:(\d+)", self.banner)
            assert found, f"no URL in the first line: {self.banner!r}"
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def line(self, timeout: float = 10) -> str:
        """The next line the server printed (fails after ``timeout`` seconds or at its exit)."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the server printed nothing for {timeout}s") from None
        if line is None:
            raise AssertionError(f"the server exited: {self.process.wait()} {self.process.stderr.read()}")
        return line

    def request_lines(self) -> Iterator[str]:
        """The lines after the banner that are request log lines (skipping the rest of the banner)."""
        while True:
            line = self.line()
            if not line.startswith("  "):
                yield line

    def json_lines(self) -> Iterator[dict]:
        while True:
            yield json.loads(self.line())

    def remaining(self) -> list[str]:
        """After the server exited: the lines it printed that no one has read yet."""
        lines = []
        while (line := self._lines.get(timeout=10)) is not None:
            lines.append(line)
        return lines

    def stop(self) -> str:
        """Stops the server; what it printed to stderr."""
        self.process.terminate()
        self.process.wait(timeout=10)
        assert self.process.stderr is not None
        return self.process.stderr.read()


@contextmanager
def serving(*args: str) -> Iterator[Served]:
    served = Served(*args)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.stop()

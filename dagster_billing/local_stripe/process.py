"""Start the emulator as a child process on 127.0.0.1 and a free port; stop it by its PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The emulator does not check the key's value; a test-mode key keeps the live-key guard quiet.
EMULATOR_API_KEY = "sk_test_localstripe"


@dataclass
class LocalStripe:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self, path: str, payload: dict | None = None) -> dict:
        """`/_config/<path>`: GET without payload, POST with it."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.api_base}/_config/{path}", data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        return self.admin("stats")

    def set_faults(self, rate: float, seed: int = 0) -> None:
        self.admin("faults", {"rate": rate, "seed": seed})

    def expire_idempotency_keys(self) -> None:
        self.admin("idempotency/expire", {})

    def reset(self) -> None:
        self.admin("reset", {})

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait()


def start_local_stripe(
    workdir: Path, *, fault_rate: float = 0.0, fault_seed: int = 0, timeout: float = 30.0
) -> LocalStripe:
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "localstripe.port"
    ready.unlink(missing_ok=True)
    log_path = workdir / "localstripe.log"
    command = [sys.executable, "-m", "dagster_billing.local_stripe", "--ready-file", str(ready)]
    command += ["--fault-rate", str(fault_rate), "--fault-seed", str(fault_seed)]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        _check_alive(process, log_path, deadline)
        time.sleep(0.05)
    emulator = LocalStripe(process, int(ready.read_text()), log_path)
    while True:
        try:
            emulator.stats()
            return emulator
        except OSError:
            _check_alive(process, log_path, deadline)
            time.sleep(0.05)


def _check_alive(process: subprocess.Popen, log_path: Path, deadline: float) -> None:
    if process.poll() is not None or time.monotonic() > deadline:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        raise RuntimeError(
            f"the local Stripe emulator did not start; its log: {log_path}\n{log_path.read_text()[-2000:]}"
        )


@contextmanager
def local_stripe(workdir: Path, **options: float) -> Iterator[LocalStripe]:
    emulator = start_local_stripe(workdir, **options)  # type: ignore[arg-type]
    try:
        yield emulator
    finally:
        emulator.stop()

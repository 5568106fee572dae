"""Cold start: a real `copilot serve --skip-ingest` process over a prepared data dir, timed from its start to its
first answered suggestion, with its resident memory after that and whether it loaded PyTorch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

READY_PATH = "/v1/health/ready"
SUGGEST_PATH = "/v1/suggest"
FIRST_TICKET = {"text": "my payout from last month never arrived"}  # the first request once ready
POLL_S = 0.05  # how often readiness is asked: the figure's resolution
GIVE_UP_S = 300.0  # a server that is not ready by then is broken, not slow
TORCH_LIBRARIES = ("libtorch", "/torch/lib/")  # in /proc/<pid>/maps once PyTorch is imported
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the server is local: no proxy from env


@dataclass(frozen=True)
class ColdStart:
    ready_seconds: float  # from starting `copilot serve` to the first 200 from /v1/health/ready
    seconds: float  # from starting it to the first suggestion answered (POST /v1/suggest right after ready)
    cpu_seconds: float | None  # the server's own CPU time when ready (what a busy machine does not inflate)
    rss_mib: float | None  # the server's resident memory after that first suggestion: warmed up, serving
    torch_loaded: bool | None  # whether the serving process mapped PyTorch's libraries (None: cannot tell)


def measure_cold_start(environment: dict[str, str], *, cwd: Path, api_key: str) -> ColdStart:
    """One start of `copilot serve --skip-ingest` in `cwd` with `environment` (the whole of it), then one
    suggestion asked with `api_key`; the server is stopped after."""
    port = free_port()
    command = [*copilot_command(), "serve", "--skip-ingest", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        server = subprocess.Popen(
            command, env=environment, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            ready = wait_until_ready(base + READY_PATH, server, started)
            cpu_seconds = cpu_seconds_of(server.pid)
            _suggest_once(base + SUGGEST_PATH, api_key)
            seconds = time.perf_counter() - started
            return ColdStart(
                ready_seconds=ready,
                seconds=seconds,
                cpu_seconds=cpu_seconds,
                rss_mib=rss_mib(server.pid),
                torch_loaded=torch_loaded(server.pid),
            )
        except RuntimeError as exc:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"{exc}; its last line: {tail[0] if tail else '(nothing)'}") from exc
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_ready(url: str, server: subprocess.Popen[bytes], started: float) -> float:
    while time.perf_counter() - started < GIVE_UP_S:
        if server.poll() is not None:
            raise RuntimeError(f"`copilot serve` exited with {server.returncode} before it was ready")
        try:
            with _DIRECT.open(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet, or a 503 (not ready): ask again
        time.sleep(POLL_S)
    raise RuntimeError(f"`copilot serve` was not ready within {GIVE_UP_S:.0f} s")


def _suggest_once(url: str, api_key: str) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(FIRST_TICKET).encode(),
        headers={"content-type": "application/json", "X-API-Key": api_key},
    )
    try:
        with _DIRECT.open(request, timeout=GIVE_UP_S) as response:
            response.read()
    except urllib.error.URLError as exc:
        raise RuntimeError(f"the first POST {SUGGEST_PATH} failed: {exc}") from exc


def copilot_command() -> list[str]:
    """The `copilot` script installed beside this Python, or the same entry point through it."""
    script = Path(sys.executable).parent / "copilot"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from copilot.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds_of(pid: int) -> float | None:
    """User and system CPU time of a running process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float | None:
    """Resident memory of a running process in MiB (Linux /proc; None elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(line.split()[1]) / 1024 if line else None


def torch_loaded(pid: int) -> bool | None:
    """Whether a running process has PyTorch's shared libraries mapped (Linux /proc; None elsewhere)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return None
    return any(marker in maps for marker in TORCH_LIBRARIES)

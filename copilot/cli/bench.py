"""`copilot bench`: speed figures of the running service, measured on the real process and printed.

Benchmarks print figures; they never pass or fail on them (tests do not time). `cold-start` needs a data
dir that is already prepared (an ingested index, a trained model, the ONNX export): it measures serving
what is on disk, not preparing it.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import typer

from copilot.cli.bench_backlog import backlog
from copilot.cli.context import console, reported_errors, state
from copilot.services import build_services, local_embedder
from copilot.settings import Settings
from copilot.triage.training import latest_artifact

app = typer.Typer(help="Measure the service's speed on this machine (figures are printed, not judged).")
app.command("backlog")(backlog)  # tickets/s of a backlog job on N workers (copilot/cli/bench_backlog.py)

READY_PATH = "/v1/health/ready"
FIRST_TICKET = b'{"text": "my payout from last month never arrived"}'  # triaged once ready: the first request
POLL_S = 0.05  # how often readiness is asked: the figure's resolution
GIVE_UP_S = 300.0  # a server that is not ready by then is broken, not slow
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the server is local: no proxy from env


@dataclass(frozen=True)
class ColdStart:
    seconds: float  # from starting `copilot serve` to the first 200 from /v1/health/ready
    cpu_seconds: float | None  # the server's own CPU time by then (what a busy machine does not inflate)
    first_triage_seconds: float  # the first POST /v1/triage after that: what start-up left for it to load
    rss_mib: float | None  # the server's resident memory after that first ticket: warmed up, serving


@app.command("cold-start")
def cold_start(
    ctx: typer.Context,
    runs: int = typer.Option(3, "--runs", min=1, max=20, help="Starts to measure; the median is reported."),
) -> None:
    """Start `copilot serve --skip-ingest` on a free port, time it to its first ready answer, stop it."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        require_prepared(cli.settings)
        results = []
        for run in range(1, runs + 1):
            result = measure_cold_start()
            results.append(result)
            console.print(
                f"run {run}: ready in {result.seconds:.2f} s, server CPU {_figure(result.cpu_seconds, 's')}, "
                f"first triage {result.first_triage_seconds:.2f} s, RSS {_figure(result.rss_mib, 'MiB', 0)}"
            )
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        console.print(
            f"cold start: {statistics.median(r.seconds for r in results):.2f} s median of {runs} "
            f"(server CPU {_figure(_median([r.cpu_seconds for r in results]), 's')}; "
            f"first triage {statistics.median(r.first_triage_seconds for r in results):.2f} s; "
            f"RSS after warm-up {_figure(_median([r.rss_mib for r in results]), 'MiB', 0)}; "
            f"load average {_figure(load, '', 1)} on {os.cpu_count()} cores)"
        )


def require_prepared(settings: Settings) -> None:
    """Refuse a data dir the server would have to prepare first (the figure would measure that instead)."""
    if (settings.triage_model_path or latest_artifact(settings.models_dir)) is None:
        raise FileNotFoundError(f"no triage model in {settings.models_dir}; run `copilot triage train` first")
    services = build_services(settings)
    try:
        services.require_index()
    finally:
        services.store.close()
    if settings.embedder == "local":
        export = local_embedder(settings).onnx_file
        if export is None or not export.exists():
            raise FileNotFoundError(f"no ONNX export at {export}; run `copilot kb ingest` first")


def measure_cold_start() -> ColdStart:
    """One start of `copilot serve --skip-ingest` with this process's environment, then one ticket triaged;
    the server is stopped after."""
    port = _free_port()
    command = [*_copilot_command(), "serve", "--skip-ingest", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            seconds = _wait_until_ready(f"http://127.0.0.1:{port}{READY_PATH}", server, started)
            cpu_seconds = _cpu_seconds(server.pid)
            first_triage_seconds = _triage_once(f"http://127.0.0.1:{port}/v1/triage")
            return ColdStart(
                seconds=seconds,
                cpu_seconds=cpu_seconds,
                first_triage_seconds=first_triage_seconds,
                rss_mib=_rss_mib(server.pid),
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


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], started: float) -> float:
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


def _triage_once(url: str) -> float:
    request = urllib.request.Request(url, data=FIRST_TICKET, headers={"content-type": "application/json"})
    started = time.perf_counter()
    try:
        with _DIRECT.open(request, timeout=GIVE_UP_S) as response:
            response.read()
    except urllib.error.URLError as exc:
        raise RuntimeError(f"the first POST /v1/triage failed: {exc}") from exc
    return time.perf_counter() - started


def _copilot_command() -> list[str]:
    """The `copilot` script installed beside this Python, or the same entry point through it."""
    script = Path(sys.executable).parent / "copilot"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from copilot.cli.main import main; main()"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a running process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float | None:
    """Resident memory of a running process in MiB (Linux /proc; None elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(line.split()[1]) / 1024 if line else None


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _figure(value: float | None, unit: str, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{' ' + unit if unit else ''}"

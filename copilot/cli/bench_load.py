"""`copilot bench load`: the API under load on loopback. `copilot serve --workers N` answers locust's clients, each
sending a new ticket as soon as its last one is answered; the figures are printed, never judged.

The server runs in a temp dir on a copy of the data dir (records, index, triage model, ONNX export), so the load
never lands in the operator's own records, and with a service's API key made in that copy. The per-caller and
per-address rate limits are lifted for the run: they would refuse the load as they refuse any one caller that
sends this much, and the figure is what the workers can serve. Each endpoint gets a warm-up run (not measured)
and then the measured run, during which the workers' resident memory is sampled and their CPU time counted.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer

from copilot.backup import BackupError, copy_records_and_index
from copilot.cli.context import console, reported_errors, state
from copilot.domain.accounts import Actor, Role
from copilot.services import build_services, local_embedder, open_records
from copilot.settings import Settings
from copilot.triage.training import latest_artifact, read_examples
from evals.speed.cold_start import READY_PATH, copilot_command, cpu_seconds_of, free_port, rss_mib, wait_until_ready

ROUTES = {"triage": "/v1/triage", "suggest": "/v1/suggest"}
CLIENTS_FILE = Path(__file__).with_name("load_clients.py")  # the locustfile; locust imports it, we never do
WARM_UP_S = 10  # of load before each measured run: models, caches and connection pools in every worker
SAMPLE_S = 2.0  # how often the workers' resident memory is read during a run
FLAT_SHARE = 0.05  # memory at the end within this share of memory after warm-up: flat
SETTLED_CPU_S = 0.05  # CPU seconds a worker spends in one second when it has finished starting
NO_RATE_LIMIT = str(10**9)  # requests a minute: the limits guard against one caller, not what the run measures
GIVE_UP_S = 300.0  # a server whose workers have not started by then is broken, not slow


class Endpoint(StrEnum):
    triage = "triage"
    suggest = "suggest"
    both = "both"  # one run each, triage first


@dataclass(frozen=True)
class LoadFigures:
    """One endpoint under load: what locust measured, and the serving workers' resident memory together."""

    endpoint: str  # triage or suggest
    workers: int
    users: int  # concurrent clients, each waiting for its answer before sending again
    seconds: int  # length of the measured run (the warm-up before it is not counted)
    requests: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int
    top_failure: str | None  # the most frequent failure's message
    # The workers' CPU time per request: the cost of a request, which a busy machine inflates less than latency
    cpu_ms_per_request: float | None
    rss_after_warm_up_mib: float | None  # None where /proc cannot be read
    rss_at_end_mib: float | None
    rss_max_mib: float | None
    client_cpu_bound: bool  # locust warned that its own CPU was saturated: the figures are then a floor

    @property
    def rss_growth(self) -> float | None:
        """Memory at the end over memory after warm-up, minus one."""
        if self.rss_after_warm_up_mib is None or self.rss_at_end_mib is None:
            return None
        return self.rss_at_end_mib / self.rss_after_warm_up_mib - 1

    @property
    def memory_flat(self) -> bool | None:
        growth = self.rss_growth
        return None if growth is None else abs(growth) <= FLAT_SHARE


def load(
    ctx: typer.Context,
    workers: int = typer.Option(2, "--workers", min=1, max=16, help="Worker processes of `copilot serve`."),
    users: int = typer.Option(16, "--users", min=1, max=1000, help="Concurrent clients."),
    seconds: int = typer.Option(60, "--seconds", min=1, max=3600, help="Length of each measured run."),
    endpoint: Endpoint = typer.Option(Endpoint.both, "--endpoint", help="What the clients call; both: one run each."),
) -> None:
    """Serve a copy of the data dir on N workers and load it with locust; print requests/s, latency, failures and
    the workers' memory."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        for figures in measure_load(cli.settings, workers=workers, users=users, seconds=seconds, endpoint=endpoint):
            console.print(describe(figures), markup=False, highlight=False)
        load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        console.print(
            f"rate limits lifted for the run; clients and server on this machine, load average {load_average:.1f} "
            f"on {os.cpu_count()} cores"
        )


def describe(figures: LoadFigures) -> str:
    """One line a person reads: throughput, latency, failures, memory."""
    failures = f"{figures.failures} failures" + (f" (most often: {figures.top_failure})" if figures.top_failure else "")
    growth = figures.rss_growth
    flat = "flat" if figures.memory_flat else "NOT flat"
    memory = (
        "memory n/a"
        if growth is None
        else f"RSS of the workers {figures.rss_after_warm_up_mib:.0f} MiB after warm-up, "
        f"{figures.rss_at_end_mib:.0f} MiB at the end ({growth:+.1%}, {flat}), max {figures.rss_max_mib:.0f} MiB"
    )
    cpu = "CPU n/a" if figures.cpu_ms_per_request is None else f"{figures.cpu_ms_per_request:.1f} ms of worker CPU each"
    floor = "; locust was CPU-bound, so these are a floor" if figures.client_cpu_bound else ""
    return (
        f"{figures.endpoint}: {figures.workers} workers, {figures.users} clients, {figures.seconds} s: "
        f"{figures.requests} requests, {figures.requests_per_s:.1f}/s; p50 {figures.p50_ms:.0f} ms, "
        f"p95 {figures.p95_ms:.0f} ms, p99 {figures.p99_ms:.0f} ms; {failures}; {cpu}; {memory}{floor}"
    )


def measure_load(
    settings: Settings, *, workers: int = 2, users: int = 16, seconds: int = 60, endpoint: Endpoint | str = "both"
) -> list[LoadFigures]:
    """Serve a copy of the prepared data dir on `workers` processes, load each endpoint with `users` clients for
    `seconds` after a warm-up, and return the figures of each run (triage first); the server is stopped after."""
    require_prepared(settings)
    names = list(ROUTES) if Endpoint(endpoint) is Endpoint.both else [Endpoint(endpoint).value]
    texts = [example.text for example in read_examples(settings.datasets_dir / "tickets" / "test.jsonl")]
    with tempfile.TemporaryDirectory(prefix="copilot-load-") as folder:
        root = Path(folder)
        served = _copy_data_dir(settings, root / "data")
        tickets = root / "tickets.json"
        tickets.write_text(json.dumps(texts), encoding="utf-8")
        clients = {
            "COPILOT_LOAD_TICKETS": str(tickets),
            "COPILOT_LOAD_KEY": _service_key(served),
        }
        with _server(served, workers=workers, log=root / "server.log") as (base, server):
            return [
                _measure(name, base, server, clients, workers=workers, users=users, seconds=seconds, root=root)
                for name in names
            ]


def _copy_data_dir(settings: Settings, data: Path) -> Settings:
    """What the server reads, copied into `data`: the records, the index, the triage model, the ONNX export.
    Returns the settings of the copy."""
    try:
        copy_records_and_index(settings, data)
    except BackupError as exc:
        raise ValueError(f"the load test serves a copy of the records, so it needs a SQLite database: {exc}") from exc
    artifact = latest_artifact(settings.models_dir)
    if settings.triage_model_path is None and artifact is not None:  # a set path is read where it is
        shutil.copytree(artifact, data / "models" / artifact.name)
    served = settings.model_copy(
        update={"data_dir": data, "chroma_path": data / "chroma", "database_url": f"sqlite:///{data / 'copilot.db'}"}
    )
    if settings.embedder == "local":
        export = local_embedder(settings).onnx_dir
        assert export is not None  # require_prepared saw the export there
        shutil.copytree(export, local_embedder(served).onnx_dir or data / "onnx")
    return served


def _service_key(served: Settings) -> str:
    """A service's API key in the copy, made as an operator would with `copilot keys create`."""
    records = open_records(served)
    try:
        _, secret = records.accounts.create_key("bench-load", Role.SERVICE, by=Actor.operator("copilot bench load"))
        return secret
    finally:
        records.close()


@contextmanager
def _server(served: Settings, *, workers: int, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`copilot serve --skip-ingest` on the copy, on a free loopback port, until every worker has started."""
    port = free_port()
    environment = os.environ | {
        "COPILOT_DATA_DIR": str(served.data_dir),
        "COPILOT_CHROMA_PATH": str(served.resolved_chroma_path),
        "COPILOT_DATABASE_URL": served.resolved_database_url,
        "COPILOT_RATE_LIMIT_PER_PRINCIPAL": NO_RATE_LIMIT,
        "COPILOT_RATE_LIMIT_PER_ADDRESS": NO_RATE_LIMIT,
    }
    command = [*copilot_command(), "serve", "--skip-ingest", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its workers are stopped with it
        )
    try:
        try:
            wait_until_ready(f"http://127.0.0.1:{port}{READY_PATH}", server, time.perf_counter())
            _wait_until_started(server, workers)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; its last line: {_last_line(log)}") from exc
        yield f"http://127.0.0.1:{port}", server
    finally:
        _stop(server)


def serving_pids(server: subprocess.Popen[bytes], workers: int) -> list[int]:
    """The processes answering requests: `copilot serve` itself with one worker, else the workers uvicorn started
    (its children, less multiprocessing's resource tracker)."""
    if workers == 1:
        return [server.pid]
    children = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue  # gone since the listing
        if int(fields[1]) == server.pid and b"resource_tracker" not in cmdline:
            children.append(int(status.parent.name))
    return sorted(children)


def _wait_until_started(server: subprocess.Popen[bytes], workers: int) -> None:
    """Readiness says one worker answers; wait until all of them have finished starting (each has loaded its
    model and index and sits idle), so that the run loads N workers, not the first one up."""
    if not Path("/proc").is_dir():
        return  # the workers cannot be seen here (not Linux): the warm-up run alone gives them time
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`copilot serve` exited with {server.returncode} while its workers started")
        pids = serving_pids(server, workers)
        before = [cpu_seconds_of(pid) for pid in pids]
        time.sleep(1.0)
        after = [cpu_seconds_of(pid) for pid in pids]
        if len(pids) == workers and all(
            a is not None and b is not None and a - b < SETTLED_CPU_S for a, b in zip(after, before)
        ):
            return
    raise RuntimeError(f"the {workers} workers had not all started within {GIVE_UP_S:.0f} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _measure(
    name: str,
    base: str,
    server: subprocess.Popen[bytes],
    clients: dict[str, str],
    *,
    workers: int,
    users: int,
    seconds: int,
    root: Path,
) -> LoadFigures:
    route = ROUTES[name]
    environment = clients | {"COPILOT_LOAD_PATH": route}
    _locust(base, environment, users=users, seconds=min(WARM_UP_S, seconds), prefix=root / f"{name}-warm-up")
    with _WorkerSamples(lambda: serving_pids(server, workers)) as samples:
        prefix = root / name
        client_cpu_bound = _locust(base, environment, users=users, seconds=seconds, prefix=prefix)
    if server.poll() is not None:
        raise RuntimeError(f"`copilot serve` exited with {server.returncode} during the {name} run")
    stats = _row(Path(f"{prefix}_stats.csv"), route)
    failures = _failures(Path(f"{prefix}_failures.csv"))
    requests = int(stats["Request Count"])
    return LoadFigures(
        endpoint=name,
        workers=workers,
        users=users,
        seconds=seconds,
        requests=requests,
        requests_per_s=float(stats["Requests/s"]),
        p50_ms=float(stats["50%"]),
        p95_ms=float(stats["95%"]),
        p99_ms=float(stats["99%"]),
        failures=int(stats["Failure Count"]),
        top_failure=failures,
        cpu_ms_per_request=None if samples.cpu_seconds is None else 1000 * samples.cpu_seconds / max(requests, 1),
        rss_after_warm_up_mib=samples.first,
        rss_at_end_mib=samples.last,
        rss_max_mib=samples.largest,
        client_cpu_bound=client_cpu_bound,
    )


def _locust(base: str, environment: dict[str, str], *, users: int, seconds: int, prefix: Path) -> bool:
    """One headless locust run; its figures are in `<prefix>_stats.csv`. Returns whether locust said its own CPU
    was saturated."""
    script = Path(sys.executable).parent / "locust"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "locust"]
    log = Path(f"{prefix}.log")
    arguments = ["-f", str(CLIENTS_FILE), "--headless", "--host", base, "-u", str(users), "-r", str(users)]
    arguments += ["-t", f"{seconds}s", "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0"]
    with log.open("wb") as out:
        done = subprocess.run(
            [*command, *arguments],
            env=os.environ | environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=seconds + GIVE_UP_S,
            check=False,
        )
    if done.returncode != 0 or not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust exited with {done.returncode}; its last line: {_last_line(log)}")
    return "CPU usage above" in log.read_text(errors="replace")


def _row(stats: Path, route: str) -> dict[str, str]:
    with stats.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == route:
                return row
    raise RuntimeError(f"locust sent no request to {route} (see its statistics in {stats.name})")


def _failures(failures: Path) -> str | None:
    """The message of the most frequent failure, or None."""
    if not failures.exists():
        return None
    with failures.open(newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return None
    return max(rows, key=lambda row: int(row["Occurrences"]))["Error"]


class _WorkerSamples:
    """The serving processes' resident memory together, read at the start, every SAMPLE_S seconds and at the end
    of the block, and their CPU time over the block (None where /proc cannot be read)."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.pids = pids
        self.rss: list[float | None] = []
        self.cpu_seconds: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name="load-memory", daemon=True)

    def __enter__(self) -> _WorkerSamples:
        cpu_before = self._cpu()
        self.rss.append(self._rss())
        self._thread.start()
        self._cpu_before = cpu_before
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.rss.append(self._rss())
        cpu_after = self._cpu()
        if cpu_after is not None and self._cpu_before is not None:
            self.cpu_seconds = cpu_after - self._cpu_before

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.rss.append(self._rss())

    def _rss(self) -> float | None:
        return _total([rss_mib(pid) for pid in self.pids()])

    def _cpu(self) -> float | None:
        return _total([cpu_seconds_of(pid) for pid in self.pids()])

    @property
    def first(self) -> float | None:
        return self.rss[0]

    @property
    def last(self) -> float | None:
        return self.rss[-1]

    @property
    def largest(self) -> float | None:
        known = [size for size in self.rss if size is not None]
        return max(known) if known else None


def _total(figures: list[float | None]) -> float | None:
    """The sum over the processes, or None if any of them could not be read."""
    known = [figure for figure in figures if figure is not None]
    return sum(known) if known and len(known) == len(figures) else None


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return lines[-1] if lines else "(nothing)"


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

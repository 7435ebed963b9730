"""Real multi-instance Aegra servers (a self-hosted LangGraph server) for tests and benchmarks.

Aegra needs Python >= 3.12, so it gets a virtualenv of its own, built on first use with a 3.12 or
3.13 interpreter and cached outside the repo (``~/.cache/video-agent/``, keyed by
``pyproject.toml``), with this repo installed into it (``pip install -e``). Every cluster gets its
own PostgreSQL database and its own Redis keys (queue and channel prefix), removed afterwards.
Which instance ran a run is read from that instance's own log ("Worker picked up run").
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from conftest import ROOT

AEGRA_VERSION = "0.11.0"
PG_ADMIN = os.environ.get("VIDEO_AGENT_TEST_PG_ADMIN",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_DB = int(os.environ.get("VIDEO_AGENT_TEST_AEGRA_REDIS_DB", "14"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "video-agent"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PICKED = re.compile(r"Worker picked up run.*?run_id=([0-9a-f-]{36})")


def server_python() -> str:
    """A Python >= 3.12 interpreter for the server (``VIDEO_AGENT_AEGRA_PYTHON`` wins)."""
    chosen = os.environ.get("VIDEO_AGENT_AEGRA_PYTHON")
    candidates = [chosen] if chosen else [
        shutil.which("python3.12"), shutil.which("python3.13"),
        *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.12*/bin/python"))),
        *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.13*/bin/python")))]
    for candidate in filter(None, candidates):
        works = subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                               capture_output=True, timeout=60, check=False)
        if works.returncode == 0:  # (a pyenv shim exists but may not run)
            return candidate
    raise RuntimeError("Aegra needs Python >= 3.12: none found on PATH or under ~/.pyenv; set "
                       "VIDEO_AGENT_AEGRA_PYTHON to one")


def server_venv() -> Path:
    """The server's virtualenv (aegra-api + this repo), built when missing or out of date."""
    # Keyed by the dependencies only: the servers import this checkout's code via PYTHONPATH.
    stamp = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    venv = CACHE / f"aegra-{AEGRA_VERSION}-{stamp.hexdigest()[:12]}"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".aegra-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others then find it ready
        if ready.exists() and python.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        steps = [[server_python(), "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "-q", f"aegra-api=={AEGRA_VERSION}"],
                 [str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[postgres]"]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=1200)
            if done.returncode:
                raise RuntimeError(f"building the Aegra venv failed at {step}:\n"
                                   f"{done.stderr[-3000:]}")
        ready.write_text(AEGRA_VERSION)
    return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Instance:
    """One Aegra process (API + workers + lease reaper)."""

    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return _ANSI.sub("", self.log_path.read_text(errors="replace"))

    def picked_runs(self) -> set[str]:
        """Run ids this instance's workers picked up, from its log."""
        return set(_PICKED.findall(self.log()))

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crashed machine would vanish."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Cluster:
    """Aegra instances sharing one PostgreSQL database and one Redis queue."""

    work: Path
    env: dict[str, str]
    database: str
    prefix: str
    instances: list[Instance] = field(default_factory=list)

    def start(self, name: str, *, extra_env: dict[str, str] | None = None,
              timeout: float = 180) -> Instance:
        venv = server_venv()
        instance = Instance(name, free_port(), self.work / f"{name}.log")
        log = open(instance.log_path, "wb")  # noqa: SIM115 - the child owns it
        instance.process = subprocess.Popen(
            [str(venv / "bin" / "python"), "-m", "uvicorn", "aegra_api.main:app",
             "--host", "127.0.0.1", "--port", str(instance.port)],
            cwd=self.work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**self.env, **(extra_env or {})})
        log.close()
        self.instances.append(instance)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if instance.process.poll() is not None:
                raise RuntimeError(f"Aegra {name} exited:\n{instance.log()[-4000:]}")
            try:
                if httpx.get(f"{instance.url}/health", timeout=2).status_code == 200:
                    return instance
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Aegra {name} did not become healthy:\n{instance.log()[-4000:]}")

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def owner_of(self, run_id: str) -> list[str]:
        """Names of the instances whose workers picked up ``run_id`` (in start order)."""
        return [i.name for i in self.instances if run_id in i.picked_runs()]


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(sql)  # type: ignore[arg-type]


def _redis_cleanup(prefix: str) -> None:
    """Delete this cluster's Redis keys (with the server venv's redis client)."""
    script = ("import redis, sys; r = redis.Redis(host='127.0.0.1', db=int(sys.argv[1])); "
              "[r.delete(k) for k in r.scan_iter(sys.argv[2] + '*')]")
    subprocess.run([str(server_venv() / "bin" / "python"), "-c", script, str(REDIS_DB), prefix],
                   capture_output=True, timeout=60, check=True)


@contextmanager
def aegra_cluster(work: Path, env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A fresh database and Redis namespace; instances are started with ``Cluster.start``."""
    work.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:10]
    database, prefix = f"video_agent_aegra_{tag}", f"video_agent_test:{tag}:"
    _admin(f'CREATE DATABASE "{database}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    cluster_env = {
        **os.environ, **(env or {}),
        "DATABASE_URL": f"{base}/{database}",
        "AEGRA_CONFIG": str(ROOT / "aegra.json"),
        "REDIS_BROKER_ENABLED": "true",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "WORKER_QUEUE_KEY": f"{prefix}jobs",
        "REDIS_CHANNEL_PREFIX": f"{prefix}run:",
        # Short leases, so a killed instance's runs are re-queued within seconds.
        "LEASE_DURATION_SECONDS": "6", "HEARTBEAT_INTERVAL_SECONDS": "2",
        "REAPER_INTERVAL_SECONDS": "2", "BLPOP_TIMEOUT_SECONDS": "1",
        "CRON_ENABLED": "false", "LANGSMITH_TRACING": "false",
        # At most 5 runs per instance (Aegra's default is 10): a story of 8-9 scenes then always
        # needs both instances, instead of one instance taking every scene off the queue.
        "N_JOBS_PER_WORKER": "5",
        # This checkout's code wins over whatever the cached venv was installed from.
        "PYTHONPATH": str(ROOT / "src"),
    }
    cluster_env.pop("VIRTUAL_ENV", None)
    cluster = Cluster(work, cluster_env, database, prefix)
    try:
        yield cluster
    finally:
        for instance in cluster.instances:
            instance.stop()
        _redis_cleanup(prefix)
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

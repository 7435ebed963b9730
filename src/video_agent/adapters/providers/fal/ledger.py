"""A durable record of every paid fal request, so each one is paid for exactly once.

One SQLite file under the state folder. A row per request key (story, scene, slot, endpoint and
the fingerprint of the arguments) holds the fal request id as soon as the submit returns, then the
result and the downloaded file. A rerun after a crash reads the row and resumes the same request;
a finished one is fetched or downloaded again, never submitted again.

The ``charges`` table holds the estimated cost of every submission (reserved atomically before
the submit, so concurrent scenes and processes cannot overshoot a budget together). ``uploads``
maps an image's content hash to its storage URL.

Thread safety: a SQLite connection is never shared.  Every operation opens its own connection,
uses it in the calling thread and closes it, so scenes in worker threads and other processes
meet only in SQLite's own locking (WAL, ``BEGIN IMMEDIATE`` for writes); the one-time setup of a
ledger runs under a process-wide lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_agent.adapters.providers.fal.budget import BudgetExceeded, over_budget

LEDGER_FILE = "fal_ledger.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
  key TEXT PRIMARY KEY, story_id TEXT NOT NULL, scene TEXT NOT NULL, slot TEXT NOT NULL,
  endpoint TEXT NOT NULL, args_hash TEXT NOT NULL, status TEXT NOT NULL,
  request_id TEXT, cost REAL NOT NULL DEFAULT 0, args TEXT, result TEXT, video_path TEXT,
  error TEXT, submitted_at REAL, updated_at REAL NOT NULL, submits INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS charges (
  id INTEGER PRIMARY KEY AUTOINCREMENT, story_id TEXT NOT NULL, key TEXT NOT NULL,
  request_id TEXT, cost REAL NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS charges_story ON charges(story_id);
CREATE TABLE IF NOT EXISTS uploads (
  sha256 TEXT NOT NULL, host TEXT NOT NULL, url TEXT NOT NULL, at REAL NOT NULL,
  PRIMARY KEY (sha256, host));
"""

RESERVED, SUBMITTED, COMPLETED, DOWNLOADED = "reserved", "submitted", "completed", "downloaded"
FAILED, CANCELLED = "failed", "cancelled"
LIVE = (SUBMITTED, COMPLETED, DOWNLOADED)
"""States whose request id is worth resuming."""


def request_key(story_id: str, scene: str, slot: str, endpoint: str, args_hash: str) -> str:
    text = json.dumps([story_id, scene, slot, endpoint, args_hash])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    key: str
    story_id: str
    scene: str
    slot: str
    endpoint: str
    args_hash: str
    status: str
    request_id: str | None
    cost: float
    args: dict[str, Any] | None
    result: dict[str, Any] | None
    video_path: str | None
    error: str | None
    submitted_at: float | None
    submits: int


_SETUP_LOCK = threading.Lock()


class Ledger:
    """The request ledger in ``<state_dir>/fal_ledger.sqlite3`` (safe across processes)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / LEDGER_FILE
        self._ready = False

    def _setup(self) -> None:
        """Create the file, switch it to WAL (a setting the file keeps) and create the tables,
        once per ledger. Switching the journal mode does not wait for a busy database, so a
        first use racing another connection (another scene, another process) retries."""
        with _SETUP_LOCK:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(100):
                con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                try:
                    con.execute("PRAGMA journal_mode=WAL")
                    con.executescript(_SCHEMA)
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or attempt == 99:
                        raise
                finally:
                    con.close()
                time.sleep(0.05)
            self._ready = True

    @contextlib.contextmanager
    def _db(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._setup()
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA synchronous=FULL")
            if write:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            else:
                yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ requests

    def get(self, key: str) -> Entry | None:
        with self._db() as con:
            row = con.execute("SELECT * FROM requests WHERE key=?", (key,)).fetchone()
        return _entry(row) if row else None

    def entries(self, story_id: str | None = None) -> list[Entry]:
        with self._db() as con:
            if story_id is None:
                rows = con.execute("SELECT * FROM requests ORDER BY updated_at").fetchall()
            else:
                rows = con.execute("SELECT * FROM requests WHERE story_id=? ORDER BY updated_at",
                                   (story_id,)).fetchall()
        return [_entry(r) for r in rows]

    def reserve(self, *, key: str, story_id: str, scene: str, slot: str, endpoint: str,
                args_hash: str, args: dict[str, Any], cost: float,
                budget: float | None) -> int:
        """Mark ``key`` as being submitted and charge its estimate; return the charge id.

        Raises ``BudgetExceeded`` (and records nothing) when the charge would pass ``budget``.
        """
        now = time.time()
        with self._db(write=True) as con:
            # A reservation whose submit never got an id (a crash mid-submit) is replaced.
            con.execute("DELETE FROM charges WHERE key=? AND request_id IS NULL", (key,))
            spent = _spent(con, story_id)
            if over_budget(spent, cost, budget):
                assert budget is not None
                raise BudgetExceeded(story_id=story_id, spent=spent, estimate=cost,
                                     budget=budget)
            cur = con.execute("INSERT INTO charges(story_id, key, cost, at) VALUES (?,?,?,?)",
                              (story_id, key, cost, now))
            con.execute(
                "INSERT INTO requests(key, story_id, scene, slot, endpoint, args_hash, status,"
                " cost, args, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(key) DO UPDATE SET status=excluded.status, request_id=NULL,"
                " cost=excluded.cost, args=excluded.args, result=NULL, video_path=NULL,"
                " error=NULL, submitted_at=NULL, updated_at=excluded.updated_at",
                (key, story_id, scene, slot, endpoint, args_hash, RESERVED, cost,
                 json.dumps(args), now))
            return int(cur.lastrowid or 0)

    def release(self, key: str, charge_id: int, error: str) -> None:
        """The submit did not happen: drop its charge and remember why."""
        with self._db(write=True) as con:
            con.execute("DELETE FROM charges WHERE id=?", (charge_id,))
            con.execute("UPDATE requests SET status=?, error=?, updated_at=? WHERE key=?",
                        (FAILED, error, time.time(), key))

    def submitted(self, key: str, charge_id: int, request_id: str) -> None:
        now = time.time()
        with self._db(write=True) as con:
            con.execute("UPDATE charges SET request_id=? WHERE id=?", (request_id, charge_id))
            con.execute(
                "UPDATE requests SET status=?, request_id=?, submitted_at=?, updated_at=?,"
                " submits=submits+1 WHERE key=?", (SUBMITTED, request_id, now, now, key))

    def completed(self, key: str, result: dict[str, Any]) -> None:
        self._set(key, status=COMPLETED, result=json.dumps(result))

    def downloaded(self, key: str, path: str) -> None:
        self._set(key, status=DOWNLOADED, video_path=path)

    def failed(self, key: str, error: str, *, status: str = FAILED) -> None:
        self._set(key, status=status, error=error)

    def _set(self, key: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        names = ", ".join(f"{name}=?" for name in fields)
        with self._db(write=True) as con:
            con.execute(f"UPDATE requests SET {names} WHERE key=?", (*fields.values(), key))

    # ------------------------------------------------------------------ spending

    def spent(self, story_id: str) -> float:
        with self._db() as con:
            return _spent(con, story_id)

    # ------------------------------------------------------------------ uploads

    def upload_url(self, sha256: str, host: str, max_age_s: float) -> str | None:
        with self._db() as con:
            row = con.execute("SELECT url, at FROM uploads WHERE sha256=? AND host=?",
                              (sha256, host)).fetchone()
        if row is None or time.time() - row["at"] > max_age_s:
            return None
        return str(row["url"])

    def forget_upload(self, sha256: str, host: str) -> None:
        with self._db(write=True) as con:
            con.execute("DELETE FROM uploads WHERE sha256=? AND host=?", (sha256, host))

    def remember_upload(self, sha256: str, host: str, url: str) -> None:
        with self._db(write=True) as con:
            con.execute("INSERT OR REPLACE INTO uploads(sha256, host, url, at) VALUES (?,?,?,?)",
                        (sha256, host, url, time.time()))


def _spent(con: sqlite3.Connection, story_id: str) -> float:
    row = con.execute("SELECT COALESCE(SUM(cost), 0) FROM charges WHERE story_id=?",
                      (story_id,)).fetchone()
    return float(row[0])


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        key=row["key"], story_id=row["story_id"], scene=row["scene"], slot=row["slot"],
        endpoint=row["endpoint"], args_hash=row["args_hash"], status=row["status"],
        request_id=row["request_id"], cost=float(row["cost"]),
        args=json.loads(row["args"]) if row["args"] else None,
        result=json.loads(row["result"]) if row["result"] else None,
        video_path=row["video_path"], error=row["error"], submitted_at=row["submitted_at"],
        submits=int(row["submits"]))

"""Where a run keeps its durable state besides checkpoints: the fal request ledger, the upload
cache and the still cache. Chosen once per run from the settings: SQLite and folders under the
state folder (the embedded default), or one PostgreSQL database shared by every worker (the
checkpoints' ``postgresql://`` DSN)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from video_agent.adapters.images import FolderStillCache, StillCache
from video_agent.adapters.providers.fal.ledger_base import RequestLedger, UploadCache


class LedgerAndUploads(RequestLedger, UploadCache, Protocol):
    pass


@dataclass(frozen=True)
class StateStores:
    ledger: LedgerAndUploads
    stills: StillCache


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in ("postgres", "postgresql")


def check_state_db(state_db: str | None) -> None:
    """``ValueError`` naming ``state_db`` unless it is empty or a ``postgresql://`` URL: a
    misspelt DSN must not quietly fall back to one machine's files."""
    if state_db and not is_postgres(state_db):
        scheme = urlsplit(state_db).scheme
        raise ValueError(f"state_db: {scheme or state_db!r} is not supported (use a "
                         "postgresql:// URL, or leave it empty for SQLite under .state)")


def state_stores(state_dir: Path, state_db: str | None) -> StateStores:
    """The stores for ``state_db`` (a ``postgresql://`` DSN) or, when it is empty, the embedded
    ones under ``state_dir``. Raises ``ValueError`` for any other URL (``check_state_db``)."""
    state_dir = Path(state_dir)
    check_state_db(state_db)
    if not state_db:
        from video_agent.adapters.providers.fal.sqlite_ledger import SqliteLedger

        return StateStores(SqliteLedger(state_dir), FolderStillCache(state_dir / "images"))
    try:
        from video_agent.adapters.postgres import PostgresLedger, PostgresStillCache
    except ImportError as exc:
        raise ValueError("state_db: PostgreSQL needs the 'postgres' extra "
                         "(pip install 'video-agent[postgres]')") from exc
    return StateStores(PostgresLedger(state_db), PostgresStillCache(state_db,
                                                                    state_dir / "images"))

"""Durable run state in PostgreSQL, shared by every worker that uses the same database: the fal
request ledger, the upload cache and the still cache (the checkpoints' DSN)."""

from video_agent.adapters.postgres.ledger import PostgresLedger
from video_agent.adapters.postgres.pool import close_pools, pool_for, pools_in_use
from video_agent.adapters.postgres.stills import PostgresStillCache

__all__ = ["PostgresLedger", "PostgresStillCache", "close_pools", "pool_for", "pools_in_use"]

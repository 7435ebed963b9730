"""Fixtures for the many-workers backends: a fresh PostgreSQL schema per test (127.0.0.1:5432,
database ``test``; override with VIDEO_AGENT_TEST_PG) and a real S3-compatible server (moto) on a
loopback port with its bucket. Import them into a test module."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

PG = os.environ.get("VIDEO_AGENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def schema_dsn(schema: str) -> str:
    """The test database with ``schema`` first on the search path (tables land there)."""
    sep = "&" if "?" in PG else "?"
    return f"{PG}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    schema = f"va_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG, connect_timeout=5, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG} (start it, see .ci/run): {exc}")
    try:
        yield schema_dsn(schema)
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


S3_ENV = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret",
          "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The standard AWS variables pointing at the test server, set for this test and its
    children; the bucket ``clips`` exists."""
    import boto3

    env = {**S3_ENV, "AWS_ENDPOINT_URL": s3_server}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server)
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket="clips")
    return env

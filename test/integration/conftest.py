"""Fixtures for the integration tests.

Session scope (started once, stopped at the end, registered for test/run-tests.sh's trap):
  pg      a real PostgreSQL 15 cluster on a free loopback port, run as `postgres` when we
          are root; SCRAM over TCP, trust over the unix socket for the superuser, every
          statement logged to pg.log (log_statement=all); master role `rdsmaster` with
          LOGIN CREATEROLE CREATEDB and NOT superuser, like RDS's master user.
  moto    moto's Secrets Manager (`moto_server -H 127.0.0.1 -p PORT`).
  sm      a boto3 Secrets Manager client for moto.
  gprdsd_bin  the binary under test (GPRDSD_BIN, default build-ci/daemon/gprdsd); a missing
          binary fails every test that needs it, loudly.

Function scope:
  world   isolation for one test: moto reset (POST /moto-api/reset), master secrets for dev
          and test, a fresh temp git repository, fresh state and audit dirs, database and role
          names with a per-test suffix (world.n("x") / world.uid), and every database and role
          except the cluster's own and rdsmaster dropped before and after the test.
"""

import os

import boto3
import pytest
from botocore.config import Config

from servers import AWS_ENV, MotoServer, start_cluster
from world import SRC, World

# boto3 (and libcurl in gprdsd) honour proxy variables; loopback never goes through one.
for _k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_k, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def pytest_report_header(config):
    return [f"gprdsd binary: {os.environ.get('GPRDSD_BIN') or default_bin()}"]


def default_bin():
    return os.path.join(SRC, "build-ci", "daemon", "gprdsd")


@pytest.fixture(scope="session")
def gprdsd_bin():
    path = os.environ.get("GPRDSD_BIN") or default_bin()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"gprdsd binary not found at {path}: build it (ninja -C build-ci) or set "
                    f"GPRDSD_BIN", pytrace=False)
    return path


@pytest.fixture(scope="session")
def pg():
    cluster = start_cluster("session")
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def moto():
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sm(moto):
    return boto3.client(
        "secretsmanager", endpoint_url=moto.url, region_name=AWS_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30))


@pytest.fixture
def world(tmp_path, pg, moto, sm, gprdsd_bin):
    moto.reset()
    pg.cleanup()
    w = World(tmp_path, pg, moto, sm, gprdsd_bin)
    w.create_master_secret("dev")
    w.create_master_secret("test")
    yield w
    pg.cleanup()


@pytest.fixture
def bare_world(tmp_path, pg, moto, sm):
    """A world without the gprdsd binary, for checks of the fixtures themselves."""
    moto.reset()
    pg.cleanup()
    w = World(tmp_path, pg, moto, sm, None)
    yield w
    pg.cleanup()

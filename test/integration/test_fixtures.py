"""The fixtures themselves: real servers, RDS-like master, isolation. No gprdsd needed."""

import json

import psycopg2
import pytest

from servers import MASTER_USER
from world import AUDIT_HEADER, standard_layout, to_yaml


def test_master_role_is_rds_like(bare_world):
    r = bare_world.pg.role(MASTER_USER)
    assert r["login"] and r["createrole"] and r["createdb"]
    assert not r["super"] and not r["replication"] and not r["bypassrls"]


def test_master_logs_in_over_tcp_with_scram(bare_world):
    pg = bare_world.pg
    c = pg.login(MASTER_USER, pg.master_password, "postgres")
    with c.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == MASTER_USER
    c.close()
    with pytest.raises(psycopg2.OperationalError):
        pg.login(MASTER_USER, "wrong-password", "postgres")
    # the master password never went over the wire in clear (setup sent a verifier)
    assert pg.master_password not in pg.log_text()


def test_statement_log_is_on(bare_world):
    pg = bare_world.pg
    marker = f"marker_{bare_world.uid}"
    pg.query(f"SELECT '{marker}'")
    assert marker in pg.log_text()


def test_moto_reachable_and_reset(bare_world):
    w = bare_world
    w.sm.create_secret(Name="goldenpath/dev/x/postgres", SecretString=json.dumps({"a": "b"}))
    assert "goldenpath/dev/x/postgres" in w.secret_names()
    w.moto.reset()
    assert w.secret_names() == []


def test_cleanup_drops_leftovers(bare_world):
    pg = bare_world.pg
    pg.execute(f"CREATE ROLE leftover_{bare_world.uid} LOGIN")
    pg.execute(f"CREATE DATABASE leftover_{bare_world.uid} OWNER leftover_{bare_world.uid}")
    pg.cleanup()
    assert f"leftover_{bare_world.uid}" not in pg.roles()
    assert f"leftover_{bare_world.uid}" not in pg.databases()
    assert MASTER_USER in pg.roles()


def test_repo_helper_writes_and_commits(bare_world):
    lay = standard_layout(bare_world.uid)
    sha = bare_world.repo.write_layout(lay)
    assert len(sha) == 40
    tf = bare_world.repo.read("envs/dev-rds/terraform.tfvars").decode()
    assert f'"inv_owner_{bare_world.uid}"' in tf
    assert b"rds_config" in bare_world.repo.read("envs/test/terraform.tfvars")


def test_yaml_emitter_round_trip():
    yaml = pytest.importorskip("yaml")
    doc = {"a": {"b": [1, "x: y", {"c": None, "d": True}], "e": {}}, "f-g": "h\"i"}
    assert yaml.safe_load(to_yaml(doc)) == doc


def test_audit_header_constant():
    assert AUDIT_HEADER.split(",")[0] == "timestamp_utc"

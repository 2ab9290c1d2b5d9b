"""(j) TLS with sslmode=verify-full against a private CA, on a separate cluster that accepts
only TLS connections (hostnossl is rejected, so any success proves TLS was used)."""

import json
import os
import re
import subprocess

import pytest

from checks import assert_role
from servers import start_cluster
from world import Entry, Layout, catalog_entry


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-subj", f"/CN=gprdsd {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return os.path.join(d, f"{name}.crt")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    ca = make_ca(d, "ca")
    other_ca = make_ca(d, "other-ca")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-sha256", "-out", "server.crt",
             "-extfile", "ext.cnf", cwd=d)
    cluster = start_cluster("tls", ssl={"cert": os.path.join(d, "server.crt"),
                                        "key": os.path.join(d, "server.key")})
    cluster.ca, cluster.other_ca = ca, other_ca
    yield cluster
    cluster.destroy()


@pytest.fixture
def tls_world(world, tls):
    tls.cleanup()
    world.sm.put_secret_value(SecretId="goldenpath/dev/rds/master",
                              SecretString=json.dumps(world.master_secret_value(tls)))
    u = world.uid
    lay = Layout(entries=[Entry("dev", f"secure-{u}", f"secure_{u}", f"secure_owner_{u}"),
                          Entry("dev", f"secure-ro-{u}", f"secure_{u}", f"secure_ro_{u}",
                                "reader")],
                 modes={"dev": "standalone"})
    lay.catalog[f"secure_{u}"] = catalog_entry("dev", f"secure_{u}", f"secure_owner_{u}",
                                               key=f"secure-{u}")
    world.repo.write_layout(lay)
    yield world, tls, lay
    tls.cleanup()


def _config(world, tls, ca):
    world.gd.write_config(environments={"dev": world.gd.env_config(
        "dev", pg=tls, postgres={"sslmode": "verify-full", "sslrootcert": ca})},
        envs=("dev",))


def test_verify_full_with_trusted_ca(tls_world):
    world, tls, lay = tls_world
    _config(world, tls, tls.ca)
    r = world.gd.once()
    assert r.rc == 0, r
    for e in lay.entries:
        assert_role(world, e, pg=tls)
        s = world.secret(e.secret_name)
        assert s["port"] == str(tls.port)
        c = tls.login(s["username"], s["password"], s["dbname"], sslmode="verify-full",
                      sslrootcert=tls.ca)
        c.close()
    assert all(e.username not in world.pg.roles() for e in lay.entries)


def test_verify_full_with_untrusted_ca_fails_and_changes_nothing(tls_world):
    world, tls, lay = tls_world
    _config(world, tls, tls.other_ca)
    r = world.gd.once()
    assert r.rc == 1, r
    assert re.search(r"(?i)certificate|ssl|tls|verify", r.err), r
    roles, dbs = tls.roles(), tls.databases()
    assert not any(e.username in roles or e.database in dbs for e in lay.entries)
    assert world.app_secret_names() == [], world.app_secret_names()

"""Real servers for the integration tests: a throwaway PostgreSQL 15 cluster and moto's
Secrets Manager in server mode, both on loopback (DESIGN §8). No fakes.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
`postgres` user (created by Debian's postgresql package) and every server command goes
through `runuser -u postgres --`; otherwise it runs as the current user.

Every process started here is registered in $GPRDSD_TEST_RUNDIR (when set) so that
test/run-tests.sh can stop it even if pytest dies before its teardown runs.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

PG_BIN = os.environ.get("GPRDSD_PG_BIN", "/usr/lib/postgresql/15/bin")
IS_ROOT = os.geteuid() == 0
MASTER_USER = "rdsmaster"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port():
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _register(name, suffix, value):
    rundir = os.environ.get("GPRDSD_TEST_RUNDIR")
    if not rundir:
        return
    os.makedirs(rundir, exist_ok=True)
    with open(os.path.join(rundir, f"{name}.{suffix}"), "w") as f:
        f.write(str(value))


def _unregister(name, suffix):
    rundir = os.environ.get("GPRDSD_TEST_RUNDIR")
    if rundir:
        try:
            os.unlink(os.path.join(rundir, f"{name}.{suffix}"))
        except FileNotFoundError:
            pass


def _as_owner(argv):
    return (["runuser", "-u", "postgres", "--"] + argv) if IS_ROOT else argv


def _chown_tree(path):
    if not IS_ROOT:
        return
    shutil.chown(path, "postgres", "postgres")
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            shutil.chown(os.path.join(dirpath, n), "postgres", "postgres")


class PgCluster:
    """One throwaway cluster. Superuser `postgres` over the unix socket (trust); everything
    else, including gprdsd and the RDS-like master `rdsmaster`, over TCP on 127.0.0.1 with
    SCRAM-SHA-256 (hostssl only when ssl is given)."""

    def __init__(self, name, ssl=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"gprdsd-{name}-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.host = "127.0.0.1"
        self.ssl = ssl  # dict(cert=..., key=...) or None
        self.master_password = secrets.token_urlsafe(24)
        self.running = False
        _register(f"pg-{name}-{self.port}", "dir", self.dir)

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self):
        if self.ssl:
            # The server's key must belong to the server's user and be 0600.
            for k in ("cert", "key"):
                dst = os.path.join(self.dir, f"server.{k}")
                shutil.copyfile(self.ssl[k], dst)
                os.chmod(dst, 0o600 if k == "key" else 0o644)
                self.ssl = dict(self.ssl, **{k: dst})
        _chown_tree(self.dir)
        subprocess.run(
            _as_owner([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8",
                       "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"]),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.dir}'",
            "password_encryption": "'scram-sha-256'",
            "log_statement": "'all'",
            "logging_collector": "off",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
            "log_connections": "on",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "60",
            "shared_buffers": "32MB",
        }
        hba = ["local all all trust"]
        if self.ssl:
            conf.update({"ssl": "on", "ssl_cert_file": f"'{self.ssl['cert']}'",
                         "ssl_key_file": f"'{self.ssl['key']}'"})
            hba += ["hostssl all all 127.0.0.1/32 scram-sha-256",
                    "hostnossl all all 127.0.0.1/32 reject"]
        else:
            hba += ["host all all 127.0.0.1/32 scram-sha-256"]
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# gprdsd integration tests\n")
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("\n".join(hba) + "\n")
        _chown_tree(self.dir)

    def start(self):
        _register(f"pg-{self.name}-{self.port}", "pgdata", self.data)
        r = subprocess.run(
            _as_owner([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                       "start"]),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.dir)
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stdout}\n{self.log_text()[-3000:]}")
        self.running = True

    def stop(self):
        if not self.running:
            return
        subprocess.run(_as_owner([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w",
                                  "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        self.running = False
        _unregister(f"pg-{self.name}-{self.port}", "pgdata")

    def destroy(self):
        self.stop()
        if os.environ.get("GPRDSD_TEST_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        _unregister(f"pg-{self.name}-{self.port}", "dir")

    def setup_master(self):
        """The RDS-like master: LOGIN CREATEROLE CREATEDB, not a superuser. Its password is
        sent as a SCRAM verifier so that it never appears in the statement log."""
        c = self.connect()
        try:
            verifier = psycopg2.extensions.encrypt_password(
                self.master_password, MASTER_USER, c, "scram-sha-256")
            with c.cursor() as cur:
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB NOSUPERUSER "
                                    "NOREPLICATION NOBYPASSRLS PASSWORD %s").format(
                                        sql.Identifier(MASTER_USER)), (verifier,))
        finally:
            c.close()

    # -- clients -----------------------------------------------------------------------------
    def connect(self, dbname="postgres"):
        """Superuser connection over the unix socket, autocommit."""
        c = psycopg2.connect(host=self.dir, port=self.port, user="postgres", dbname=dbname,
                             connect_timeout=10)
        c.autocommit = True
        return c

    def login(self, user, password, dbname, host=None, port=None, **kw):
        """An ordinary TCP login, as an application would do it."""
        kw.setdefault("sslmode", "disable" if not self.ssl else "require")
        c = psycopg2.connect(host=host or self.host, port=port or self.port, user=user,
                             password=password, dbname=dbname, connect_timeout=10, **kw)
        c.autocommit = True
        return c

    def query(self, q, args=(), dbname="postgres"):
        c = self.connect(dbname)
        try:
            with c.cursor() as cur:
                cur.execute(q, args)
                return cur.fetchall() if cur.description else None
        finally:
            c.close()

    def execute(self, q, args=(), dbname="postgres"):
        self.query(q, args, dbname)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # -- observations used by the tests ----------------------------------------------------
    def role(self, name):
        rows = self.query(
            "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
            "rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, "
            "shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = %s",
            (name,))
        if not rows:
            return None
        keys = ["name", "super", "inherit", "createrole", "createdb", "login", "replication",
                "bypassrls", "connlimit", "validuntil", "comment"]
        return dict(zip(keys, rows[0]))

    def database(self, name):
        rows = self.query("SELECT d.datname, pg_get_userbyid(d.datdba), d.datacl IS NULL "
                          "FROM pg_database d WHERE d.datname = %s", (name,))
        if not rows:
            return None
        return {"name": rows[0][0], "owner": rows[0][1], "acl_default": rows[0][2]}

    def database_acl(self, name):
        """Explicit ACL entries of a database as a set of (grantee, privilege); grantee
        'PUBLIC' for PUBLIC. A NULL datacl means the built-in defaults, which include PUBLIC
        CONNECT and TEMPORARY; it is returned as such."""
        rows = self.query(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, "
            "a.privilege_type FROM pg_database d, "
            "aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a "
            "WHERE d.datname = %s", (name,))
        return {(g, p) for g, p in rows}

    def member_of(self, member, role):
        rows = self.query(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
            (role, member))
        return bool(rows)

    def roles(self):
        return {r[0] for r in self.query("SELECT rolname FROM pg_roles")}

    def databases(self):
        return {r[0] for r in self.query("SELECT datname FROM pg_database")}

    def cleanup(self):
        """Drops every database and role the tests or gprdsd made, leaving only the
        cluster's own objects and the master role (reset to its original attributes)."""
        keep_db = {"postgres", "template0", "template1"}
        for db in sorted(self.databases() - keep_db):
            self.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))
        keep_role = {"postgres", MASTER_USER}
        for role in sorted(r for r in self.roles() - keep_role if not r.startswith("pg_")):
            self.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            self.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
        self.execute(sql.SQL("ALTER ROLE {} LOGIN CREATEROLE CREATEDB NOSUPERUSER").format(
            sql.Identifier(MASTER_USER)))


def start_cluster(name, ssl=None):
    pg = PgCluster(name, ssl=ssl)
    try:
        pg.init()
        pg.start()
        pg.setup_master()
    except BaseException:
        pg.destroy()
        raise
    return pg


class MotoServer:
    """moto's server mode (`moto_server -H 127.0.0.1 -p PORT`) in its own process group."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="gprdsd-moto-")
        self.log = os.path.join(self.dir, "moto.log")
        self.proc = None
        _register(f"moto-{self.port}", "dir", self.dir)

    def _binary(self):
        cand = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if os.access(cand, os.X_OK):
            return cand
        found = shutil.which("moto_server")
        if not found:
            raise RuntimeError("moto_server not found: pip install 'moto[server]' "
                               "(scripts/install-deps.sh does)")
        return found

    def start(self):
        env = dict(os.environ, **AWS_ENV)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self._binary(), "-H", "127.0.0.1", "-p",
                                          str(self.port)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        _register(f"moto-{self.port}", "pid", self.proc.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited: {open(self.log).read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("moto_server did not start within 60s")

    def reset(self):
        req = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc:
            _unregister(f"moto-{self.port}", "pid")
        if os.environ.get("GPRDSD_TEST_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        _unregister(f"moto-{self.port}", "dir")

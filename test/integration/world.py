"""Helpers for one test's world: a platform repository in a temp git checkout (Repo), a
gprdsd config and runner (Gprdsd), and the independent observers the tests assert with
(psycopg2 through servers.PgCluster, boto3 for Secrets Manager, csv for the audit file).

Nothing here asks gprdsd what it did: outcomes are read from PostgreSQL, moto and files.
"""

import csv
import fcntl
import io
import json
import os
import re
import select
import secrets as pysecrets
import shutil
import struct
import subprocess
import termios
import time
from dataclasses import dataclass, field

import psycopg2

from servers import AWS_ENV, MASTER_USER

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

CATALOG = "docs/20-contracts/resource-catalogs/rds-catalog.yaml"
ENUMS = "schemas/metadata/enums.yaml"
AUDIT_HEADER = ("timestamp_utc,environment,build_id,run_id,database,username,action,status,"
                "duration_ms,message")
SRC = os.environ.get("GPRDSD_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE_REPO = os.path.join(SRC, "config", "example-repo")


# --- tiny emitters ---------------------------------------------------------------------------
# YAML: block style, every string double-quoted with JSON escapes (valid YAML).

def _yaml_key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", k) else json.dumps(k)


def _yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v))


def to_yaml(v, indent=0):
    pad = "  " * indent
    out = []
    if isinstance(v, dict):
        if not v:
            return pad + "{}\n"
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out.append(f"{pad}{_yaml_key(k)}:\n{to_yaml(x, indent + 1)}")
            elif isinstance(x, (dict, list)):
                out.append(f"{pad}{_yaml_key(k)}: {'{}' if isinstance(x, dict) else '[]'}\n")
            else:
                out.append(f"{pad}{_yaml_key(k)}: {_yaml_scalar(x)}\n")
        return "".join(out)
    if isinstance(v, list):
        for x in v:
            if isinstance(x, (dict, list)) and x:
                inner = to_yaml(x, indent + 1)
                out.append(f"{pad}- {inner.lstrip()}")
            else:
                out.append(f"{pad}- {_yaml_scalar(x)}\n")
        return "".join(out)
    return pad + _yaml_scalar(v) + "\n"


def hcl_str(s):
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("${", "$${")
    return f'"{s}"'


def hcl_key(k):
    return k if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", k) else hcl_str(k)


def hcl_entries(entries, indent="  "):
    """application_databases = { key = { database_name = .., username = .., access_level } }"""
    lines = [f"{indent}application_databases = {{"]
    for key, e in entries.items():
        lines.append(f"{indent}  {hcl_key(key)} = {{")
        for attr in ("database_name", "username", "access_level"):
            if e.get(attr) is not None:
                lines.append(f"{indent}    {attr:<13} = {hcl_str(e[attr])}")
        lines.append(f"{indent}  }}")
    lines.append(f"{indent}}}")
    return "\n".join(lines) + "\n"


def standalone_tfvars(env, entries, extra=""):
    return (f"# Platform RDS (standalone) — {env}\n"
            f'environment = "{env}"\n'
            f'aws_region  = "eu-west-2"\n\n'
            + hcl_entries(entries, indent="") + extra)


def coupled_tfvars(env, entries, enabled=True, extra=""):
    return (f"# Golden path cluster (coupled) — {env}\n"
            f'cluster_name = "goldenpath-{env}"\n'
            f"eks_config = {{ node_count = 2, instance_types = [\"t3.large\"] }}\n\n"
            f"rds_config = {{\n"
            f"  enabled        = {'true' if enabled else 'false'}\n"
            f'  instance_class = "db.t3.small"\n'
            + hcl_entries(entries, indent="  ") + "}\n" + extra)


# --- the desired state a test writes ---------------------------------------------------------

@dataclass
class Entry:
    env: str
    key: str
    database: str
    username: str
    access: str = "owner"

    @property
    def secret_name(self):
        return f"goldenpath/{self.env}/{self.key}/postgres"


@dataclass
class Layout:
    """Entries per environment plus how each env's tfvars is written."""
    entries: list = field(default_factory=list)
    modes: dict = field(default_factory=dict)  # env -> "standalone" | "coupled"
    catalog: dict = field(default_factory=dict)  # database -> catalog entry dict

    def env_entries(self, env):
        return [e for e in self.entries if e.env == env]

    def owners(self):
        return [e for e in self.entries if e.access == "owner"]

    def owner_of(self, e):
        return next(o for o in self.entries
                    if o.env == e.env and o.database == e.database and o.access == "owner")

    def by_access(self, env, database, access):
        return next(e for e in self.entries
                    if e.env == env and e.database == database and e.access == access)

    def databases(self, env=None):
        seen = []
        for e in self.entries:
            if (env is None or e.env == env) and (e.env, e.database) not in seen:
                seen.append((e.env, e.database))
        return seen


def catalog_entry(env, database, username, key=None, status="pending", risk="medium",
                  size="small", approved_by=None, **metadata):
    classes = {"small": "db.t3.micro", "medium": "db.t3.small", "large": "db.t3.medium",
               "xlarge": "db.r6g.large"}
    md = {
        "id": "DATABASE_" + database.upper(),
        "owner": "app-team",
        "requested_by": "test-runner",
        "domain": "catalog",
        "risk": risk,
        "environment": env,
        "status": status,
        "created_date": "2026-01-15",
    }
    if approved_by:
        md["approved_by"] = approved_by
    md.update(metadata)
    return {
        "metadata": md,
        "configuration": {
            "username": username,
            "size_tier": size,
            "instance_class": classes.get(size, "db.t3.micro"),
            "secret_path": f"goldenpath/{env}/{key or database}/postgres",
        },
    }


def standard_layout(uid):
    """Owner/editor/reader entries across two databases in dev (standalone) and one database
    in test (coupled). Names carry the per-test suffix."""
    u = uid
    E = Entry
    entries = [
        E("dev", f"inventory-{u}", f"inventory_{u}", f"inv_owner_{u}", "owner"),
        E("dev", f"inventory-worker-{u}", f"inventory_{u}", f"inv_editor_{u}", "editor"),
        E("dev", f"inventory-reporting-{u}", f"inventory_{u}", f"inv_reader_{u}", "reader"),
        E("dev", f"orders-{u}", f"orders_{u}", f"ord_owner_{u}", "owner"),
        E("dev", f"orders-ro-{u}", f"orders_{u}", f"ord_reader_{u}", "reader"),
        E("test", f"search-{u}", f"search_{u}", f"srch_owner_{u}", "owner"),
        E("test", f"search-writer-{u}", f"search_{u}", f"srch_editor_{u}", "editor"),
        E("test", f"search-ro-{u}", f"search_{u}", f"srch_reader_{u}", "reader"),
    ]
    lay = Layout(entries=entries, modes={"dev": "standalone", "test": "coupled"})
    for e in lay.owners():
        lay.catalog[e.database] = catalog_entry(e.env, e.database, e.username, key=e.key,
                                                status="approved")
    return lay


def owners_layout(uid, n, env="dev", prefix="app"):
    """n approved owner entries in env (standalone), one database each."""
    lay = Layout(modes={env: "standalone"})
    for k in range(n):
        e = Entry(env, f"{prefix}{k}-{uid}", f"{prefix}{k}_{uid}", f"{prefix}{k}_own_{uid}")
        lay.entries.append(e)
        lay.catalog[e.database] = catalog_entry(env, e.database, e.username, key=e.key,
                                                status="approved")
    return lay


# --- the repository --------------------------------------------------------------------------

class Repo:
    """A platform repository in a temp dir, committed with git after each change."""

    def __init__(self, path):
        self.path = str(path)
        os.makedirs(self.path, exist_ok=True)
        self.git("init", "-q")

    def git(self, *args):
        r = subprocess.run(["git", "-c", "user.name=gprdsd tests",
                            "-c", "user.email=tests@example.invalid",
                            "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                            *args], cwd=self.path, check=True, capture_output=True, text=True)
        return r.stdout.strip()

    def write(self, rel, content):
        p = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        return p

    def read(self, rel):
        with open(os.path.join(self.path, rel), "rb") as f:
            return f.read()

    def remove(self, rel):
        p = os.path.join(self.path, rel)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.unlink(p)

    def copy_from(self, src):
        shutil.copytree(src, self.path, dirs_exist_ok=True)

    def set_catalog(self, databases):
        if isinstance(databases, (str, bytes)):
            return self.write(CATALOG, databases)
        return self.write(CATALOG, "# rds catalog (tests)\n" + to_yaml(
            {"version": "1.0", "databases": databases}))

    def set_enums(self):
        return self.write(ENUMS, open(os.path.join(EXAMPLE_REPO, ENUMS), "rb").read())

    @staticmethod
    def tfvars_path(env, mode):
        return f"envs/{env}-rds/terraform.tfvars" if mode == "standalone" \
            else f"envs/{env}/terraform.tfvars"

    def set_tfvars(self, env, mode, entries, extra=""):
        text = standalone_tfvars(env, entries, extra) if mode == "standalone" \
            else coupled_tfvars(env, entries, extra=extra)
        return self.write(self.tfvars_path(env, mode), text)

    def write_layout(self, layout):
        self.set_enums()
        self.set_catalog(layout.catalog)
        for env, mode in layout.modes.items():
            entries = {e.key: {"database_name": e.database, "username": e.username,
                               "access_level": e.access} for e in layout.env_entries(env)}
            self.set_tfvars(env, mode, entries)
        return self.commit("layout")

    def commit(self, msg="update"):
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", msg)
        return self.git("rev-parse", "HEAD")


# --- running gprdsd --------------------------------------------------------------------------

@dataclass
class Result:
    argv: list
    rc: int
    out: str
    err: str

    def __str__(self):
        def cut(s):
            return s if len(s) < 6000 else s[:3000] + "\n[...]\n" + s[-3000:]
        return (f"\n$ {' '.join(self.argv)}\nexit {self.rc}\n--- stdout\n{cut(self.out)}"
                f"\n--- stderr\n{cut(self.err)}")

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise AssertionError(f"stdout is not JSON ({e}):{self}")


def deep_merge(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        elif v is _DELETE:
            out.pop(k, None)
        else:
            out[k] = v
    return out


_DELETE = object()
DELETE = _DELETE


class Gprdsd:
    def __init__(self, binary, workdir, repo, pg, moto_url):
        self.bin = binary
        self.workdir = str(workdir)
        self.repo = repo
        self.pg = pg
        self.moto_url = moto_url
        self.state_dir = os.path.join(self.workdir, "state")
        self.audit_dir = os.path.join(self.workdir, "audit")
        self.config_path = os.path.join(self.workdir, "gprdsd.yaml")
        self.home = os.path.join(self.workdir, "home")
        os.makedirs(self.home, exist_ok=True)
        self.envs = ("dev", "test")

    def env_config(self, env, pg=None, **over):
        pg = pg or self.pg
        c = {
            "master_secret": f"goldenpath/{env}/rds/master",
            "postgres": {"host": "127.0.0.1", "port": pg.port, "sslmode": "disable",
                         "connect_timeout": "5s"},
            "allow_provision": True,
        }
        return deep_merge(c, over)

    def config(self, envs=None, **over):
        envs = envs or self.envs
        c = {
            "repository": {"path": self.repo.path},
            "state_dir": self.state_dir,
            "audit_dir": self.audit_dir,
            "log_level": "info",
            "log_target": "console",
            "aws": {"region": "eu-west-2", "endpoint": self.moto_url, "timeout": "10s"},
            "environments": {e: self.env_config(e) for e in envs},
        }
        return deep_merge(c, over)

    def write_config(self, cfg=None, path=None, **over):
        cfg = cfg if cfg is not None else self.config(**over)
        path = path or self.config_path
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else "# gprdsd test config\n" + to_yaml(cfg))
        return path

    @property
    def moto_port(self):
        return int(self.moto_url.rsplit(":", 1)[1].split("/")[0])

    def environ(self, shift=None):
        """The environment gprdsd runs with; shift (e.g. "+15d") moves its clock forward
        with libfaketime."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "PG", "NOTIFY_SOCKET", "JOURNAL_STREAM",
                                    "INVOCATION_ID", "LISTEN_"))
               and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update(AWS_ENV)
        env.update({
            "HOME": self.home,
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "no-credentials"),
            "AWS_CONFIG_FILE": os.path.join(self.home, "no-config"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        })
        if shift:
            env.update({"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": shift,
                        "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_NO_CACHE": "1"})
        return env

    def argv(self, *args, config=True):
        """gprdsd's argv, with the config inserted after the first argument (the subcommand
        or --once)."""
        args = list(args)
        if config:
            if not os.path.exists(self.config_path):
                self.write_config()
            cfg = config if isinstance(config, str) else self.config_path
            args = args[:1] + ["--config", cfg] + args[1:]
        return [self.bin] + args

    def start(self, *args, shift=None, output=subprocess.DEVNULL):
        """Starts gprdsd (argv() as run() builds it) and returns the Popen."""
        return subprocess.Popen(self.argv(*args), env=self.environ(shift), cwd=self.workdir,
                                stdin=subprocess.DEVNULL, stdout=output, stderr=output)

    def run(self, *args, config=True, timeout=120, stdin=None):
        """Runs gprdsd with the config inserted after the first argument (the subcommand or
        --once). Returns a Result; a timeout is a test failure, never a hang."""
        argv = self.argv(*args, config=config)
        try:
            r = subprocess.run(argv, capture_output=True, timeout=timeout, env=self.environ(),
                               cwd=self.workdir, stdin=subprocess.DEVNULL if stdin is None
                               else stdin)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"gprdsd did not finish within {timeout}s: {' '.join(argv)}\n"
                                 f"stderr so far: {(e.stderr or b'')[-3000:]!r}")
        return Result(argv, r.returncode, r.stdout.decode("utf-8", "replace"),
                      r.stderr.decode("utf-8", "replace"))

    def on_pty(self, *args, cols=100, env=None, timeout=120):
        """Runs gprdsd with standard input, output and error on a pseudo terminal cols wide,
        TERM=xterm, as a person at a terminal runs it (NO_COLOR from the caller's environment
        dropped; env adds or overrides). Returns a Result whose out holds everything written,
        as written (the line discipline adds no \\r)."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        environ = {k: v for k, v in self.environ().items() if k != "NO_COLOR"}
        environ.update(TERM="xterm", COLUMNS=str(cols))
        environ.update(env or {})
        argv = self.argv(*args)
        p = subprocess.Popen(argv, env=environ, cwd=self.workdir, stdin=slave, stdout=slave,
                             stderr=slave, start_new_session=True)
        os.close(slave)
        out, deadline = b"", time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not select.select([master], [], [], 1)[0]:
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every copy of the terminal is closed, gprdsd exited
                    break
                if not chunk:
                    break
                out += chunk
            rc = p.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"gprdsd did not finish within {timeout}s: {argv}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
        return Result(argv, rc, out.decode("utf-8", "replace"), "")

    def once(self, *args, **kw):
        return self.run("--once", *args, **kw)

    def plan(self, *args, **kw):
        return self.run("plan", *args, **kw)

    def status(self, *args, **kw):
        return self.run("status", *args, **kw)

    def status_json(self, *args):
        r = self.status("--json", *args)
        assert r.rc == 0, f"status --json failed:{r}"
        return r.json()

    # files gprdsd writes
    def audit_path(self, env):
        return os.path.join(self.audit_dir, env, "rds_provision_audit.csv")

    def audit_text(self, env):
        p = self.audit_path(env)
        if not os.path.exists(p):
            return ""
        with open(p, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def audit_rows(self, env):
        """Rows as dicts; asserts the header is exactly the documented one."""
        text = self.audit_text(env)
        if not text:
            return []
        first = text.split("\n", 1)[0].rstrip("\r")
        assert first == AUDIT_HEADER, f"audit header is {first!r}"
        return list(csv.DictReader(io.StringIO(text, newline="")))

    def state_path(self, env):
        return os.path.join(self.state_dir, f"{env}.state.json")

    def files_written(self):
        out = []
        for d in (self.state_dir, self.audit_dir):
            for dirpath, _, files in os.walk(d):
                out += [os.path.join(dirpath, f) for f in files]
        return out


# --- the world of one test -------------------------------------------------------------------

class World:
    def __init__(self, tmp_path, pg, moto, sm, binary):
        self.uid = pysecrets.token_hex(3)
        self.tmp = str(tmp_path)
        self.pg = pg
        self.moto = moto
        self.sm = sm
        self.repo = Repo(os.path.join(self.tmp, "repo"))
        self.gd = Gprdsd(binary, os.path.join(self.tmp, "run"), self.repo, pg, moto.url)

    def n(self, prefix):
        return f"{prefix}_{self.uid}"

    # master secrets
    def master_secret_value(self, pg=None):
        pg = pg or self.pg
        return {"host": "127.0.0.1", "port": str(pg.port), "username": MASTER_USER,
                "password": pg.master_password, "dbname": "postgres", "engine": "postgres"}

    def create_master_secret(self, env, pg=None):
        self.sm.create_secret(Name=f"goldenpath/{env}/rds/master",
                              SecretString=json.dumps(self.master_secret_value(pg)))

    # Secrets Manager observations (boto3)
    def secret_names(self):
        names = []
        for page in self.sm.get_paginator("list_secrets").paginate():
            names += [s["Name"] for s in page["SecretList"]]
        return names

    def app_secret_names(self):
        return sorted(n for n in self.secret_names() if not n.endswith("/rds/master"))

    def secret(self, name):
        # By label: moto's UpdateSecretVersionStage moves AWSCURRENT but not the version a
        # GetSecretValue without a label returns; AWS returns the AWSCURRENT one either way.
        return json.loads(self.sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")[
            "SecretString"])

    def secret_tags(self, name):
        return {t["Key"]: t["Value"] for t in self.sm.describe_secret(SecretId=name).get(
            "Tags", [])}

    def secret_versions(self, name):
        out, kw = [], {"SecretId": name, "IncludeDeprecated": True}
        while True:  # boto3 has no paginator for this operation
            page = self.sm.list_secret_version_ids(**kw)
            out += [(v["VersionId"], tuple(sorted(v.get("VersionStages", []))))
                    for v in page["Versions"]]
            if not page.get("NextToken"):
                return sorted(out)
            kw["NextToken"] = page["NextToken"]

    def all_passwords(self):
        """Every password value in every version of every secret in moto."""
        pw = set()
        for name in self.secret_names():
            for vid, _ in self.secret_versions(name):
                v = self.sm.get_secret_value(SecretId=name, VersionId=vid)
                try:
                    doc = json.loads(v["SecretString"])
                except ValueError:
                    continue
                for k, x in doc.items():
                    if "password" in k and isinstance(x, str) and x:
                        pw.add(x)
        return pw

    # logins
    def login(self, entry, dbname=None, pg=None):
        s = self.secret(entry.secret_name)
        return (pg or self.pg).login(s["username"], s["password"], dbname or s["dbname"])

    def can_login(self, user, password, dbname, pg=None):
        try:
            (pg or self.pg).login(user, password, dbname).close()
            return True
        except psycopg2.OperationalError:
            return False

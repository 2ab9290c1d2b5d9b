"""(g) Secrets never leak: after a full provisioning, an adoption and a password-drift repair
with the server logging every statement, no password held in Secrets Manager appears in the
PostgreSQL log, gprdsd's output, the audit CSV or any file gprdsd wrote."""

import json
import re
import secrets

from psycopg2 import sql

from checks import provision
from world import standard_layout


def test_no_password_anywhere(world):
    lay = standard_layout(world.uid)
    adopted = lay.by_access("dev", f"orders_{world.uid}", "owner")
    world.sm.create_secret(Name=adopted.secret_name, SecretString=json.dumps({
        "username": adopted.username, "password": secrets.token_hex(16),
        "host": "127.0.0.1", "port": world.pg.port, "dbname": adopted.database}))
    outputs = []
    _, _, r = provision(world, lay, reconcile={"verify_interval": "0s"})
    outputs.append(r)
    drifted = lay.by_access("test", f"search_{world.uid}", "editor")
    world.pg.execute(sql.SQL("ALTER ROLE {} PASSWORD 'by-hand'").format(
        sql.Identifier(drifted.username)))
    r = world.gd.once()
    assert r.rc == 0, r
    outputs.append(r)
    assert world.can_login(drifted.username, world.secret(drifted.secret_name)["password"],
                           drifted.database)
    for args in (("plan",), ("plan", "--json"), ("status",), ("status", "--json")):
        outputs.append(world.gd.run(*args))

    passwords = world.all_passwords()
    assert len(passwords) >= len(lay.entries) + 1, "expected every entry's and the master's"

    pglog = world.pg.log_text()
    # Not vacuous: the log did record gprdsd's statements about every role.
    for e in lay.entries:
        assert e.username in pglog, f"{e.username} never appears in the statement log"

    haystacks = {"postgres log": pglog}
    for i, r in enumerate(outputs):
        haystacks[f"{' '.join(r.argv[1:2])} #{i} stdout"] = r.out
        haystacks[f"{' '.join(r.argv[1:2])} #{i} stderr"] = r.err
    for path in world.gd.files_written():
        with open(path, "rb") as f:
            haystacks[path] = f.read().decode("utf-8", "replace")
    assert any("rds_provision_audit.csv" in k for k in haystacks)
    for pw in passwords:
        for where, text in haystacks.items():
            assert pw not in text, f"a password from Secrets Manager appears in {where}"

    # Passwords the master sent were SCRAM verifiers, never plaintext.
    for line in pglog.splitlines():
        if " rdsmaster@" in line:
            for m in re.finditer(r"PASSWORD\s+'([^']*)'", line, re.I):
                assert m.group(1).startswith("SCRAM-SHA-256$"), line

"""(d) A secret that exists before gprdsd (e.g. made by Terraform) is adopted: its password
is kept, its JSON corrected."""

import json
import secrets

from checks import assert_can_login, assert_role, provision
from world import standard_layout


def test_adopts_existing_secret_keeps_password(world):
    lay = standard_layout(world.uid)
    e = lay.by_access("dev", f"inventory_{world.uid}", "owner")
    known = secrets.token_hex(16)
    world.sm.create_secret(Name=e.secret_name, SecretString=json.dumps({
        "username": e.username, "password": known, "host": "127.0.0.1",
        "port": world.pg.port, "dbname": e.database}))
    provision(world, lay)

    s = world.secret(e.secret_name)
    assert s["password"] == known, "adoption replaced the password"
    assert s["engine"] == "postgres", s.keys()
    assert s["port"] == str(world.pg.port) and isinstance(s["port"], str), s["port"]
    assert s["postgres-password"] == known
    assert s["username"] == e.username and s["dbname"] == e.database
    assert world.can_login(e.username, known, e.database)
    assert_role(world, e)
    rows = world.gd.audit_rows("dev")
    assert any(r["action"] == "adopt_secret" and r["username"] == e.username
               and r["status"] == "success" for r in rows), rows
    assert not any(r["action"] == "create_secret" and r["username"] == e.username
                   for r in rows), "adopted secret was also created"
    # the other entries were created normally
    for other in lay.entries:
        if other is not e:
            assert_can_login(world, other)


def test_adopted_secret_stays_stable(world):
    lay = standard_layout(world.uid)
    e = lay.by_access("test", f"search_{world.uid}", "reader")
    known = secrets.token_hex(16)
    world.sm.create_secret(Name=e.secret_name, SecretString=json.dumps({
        "username": e.username, "password": known, "host": "127.0.0.1",
        "port": str(world.pg.port), "dbname": e.database}))
    provision(world, lay)
    versions = world.secret_versions(e.secret_name)
    r = world.gd.once()
    assert r.rc == 0, r
    assert world.secret_versions(e.secret_name) == versions
    assert world.secret(e.secret_name)["password"] == known
    assert world.can_login(e.username, known, e.database)

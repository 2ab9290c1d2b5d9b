"""(k) `gprdsd status`: what the state dir says about every entry, including the ones held
at a gate, and the gates' release."""

import re

from checks import ISO_Z, assert_can_login
from world import Entry, catalog_entry, standard_layout


def _gated_layout(world):
    u = world.uid
    lay = standard_layout(u)
    big = Entry("dev", f"ledger-{u}", f"ledger_{u}", f"ledger_owner_{u}")
    prod = Entry("prod", f"billing-{u}", f"billing_{u}", f"billing_owner_{u}")
    lay.entries += [big, prod]
    lay.modes["prod"] = "standalone"
    lay.catalog[big.database] = catalog_entry("dev", big.database, big.username, key=big.key,
                                              size="large", status="approved")
    lay.catalog[prod.database] = catalog_entry("prod", prod.database, prod.username,
                                               key=prod.key, status="approved")
    return lay, big, prod


def _config(world):
    world.create_master_secret("prod")
    cfg = world.gd.config(envs=("dev", "test", "prod"))
    cfg["environments"]["prod"]["allow_provision"] = False
    return cfg


def _entries(doc):
    return {(env["env"], x["key"]): x for env in doc["environments"] for x in env["entries"]}


def test_status_json_after_a_pass(world):
    lay, big, prod = _gated_layout(world)
    world.repo.write_layout(lay)
    world.gd.write_config(_config(world))
    r = world.gd.once()
    assert r.rc == 0, f"entries waiting at a gate are not failures:{r}"

    doc = world.gd.status_json()
    assert doc["format_version"] == 1, doc.keys()
    assert {e["env"] for e in doc["environments"]} == {"dev", "test", "prod"}
    entries = _entries(doc)
    for e in lay.entries:
        x = entries.get((e.env, e.key))
        assert x is not None, f"{e.env}/{e.key} missing from status: {sorted(entries)}"
        assert x["database"] == e.database and x["username"] == e.username, x
        assert ISO_Z.match(x["since"]), x
        assert isinstance(x["attempts"], int), x
    for e in lay.entries:
        x = entries[(e.env, e.key)]
        if e in (big, prod):
            assert x["state"] == "pending", x
        else:
            assert x["state"] == "active", x
            assert x["reason"] is None, x
    assert re.search(r"(?i)approv", entries[("dev", big.key)]["reason"] or ""), \
        entries[("dev", big.key)]
    assert re.search(r"(?i)allow_provision|not allowed|provision",
                     entries[("prod", prod.key)]["reason"] or ""), entries[("prod", prod.key)]

    roles, dbs, secrets = world.pg.roles(), world.pg.databases(), world.app_secret_names()
    for e in (big, prod):
        assert e.username not in roles and e.database not in dbs
        assert e.secret_name not in secrets

    text = world.gd.status()
    assert text.rc == 0, text
    assert big.key in text.out or big.database in text.out, text

    only = world.gd.status_json("--env", "prod")
    assert [e["env"] for e in only["environments"]] == ["prod"]


def test_approval_releases_the_gate(world):
    lay, big, prod = _gated_layout(world)
    world.repo.write_layout(lay)
    world.gd.write_config(_config(world))
    assert world.gd.once().rc == 0
    lay.catalog[big.database]["metadata"]["approved_by"] = "platform-team"
    world.repo.write_layout(lay)
    r = world.gd.once()
    assert r.rc == 0, r
    assert_can_login(world, big)
    x = _entries(world.gd.status_json())[("dev", big.key)]
    assert x["state"] == "active" and x["reason"] is None, x
    assert prod.username not in world.pg.roles()


def test_catalog_only_entry_is_pending(world):
    lay = standard_layout(world.uid)
    lonely = f"lonely_{world.uid}"
    lay.catalog[lonely] = catalog_entry("dev", lonely, f"lonely_owner_{world.uid}")
    world.repo.write_layout(lay)
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, r
    x = _entries(world.gd.status_json()).get(("dev", lonely))
    assert x is not None, "a catalog-only entry should be listed under its database name"
    assert x["state"] == "pending" and re.search(r"(?i)tfvars", x["reason"] or ""), x
    assert lonely not in world.pg.databases()


def test_status_table_fits_the_terminal(world):
    lay, big, prod = _gated_layout(world)
    world.repo.write_layout(lay)
    world.gd.write_config(_config(world))
    world.gd.once()

    # Piped: every column, each as wide as its widest cell, the reason last and whole.
    every = ["ENV", "KEY", "DATABASE", "USERNAME", "STATE", "SINCE", "TRY", "NEXT", "AGE",
             "ROTATION", "REASON"]
    text = world.gd.status()
    assert text.rc == 0, text
    assert text.out.splitlines()[0].split() == every, text.out
    row = next(x for x in text.out.splitlines() if f" {big.key} " in x)
    assert re.match(rf"^dev +{big.key} +{big.database} +{big.username} +pending +\d+[smhd] +0 +- +- +-"
                    r" +\S", row), row

    # On a terminal: never wider than it, the columns that say nothing go first.
    for cols in (100, 80):
        t = world.gd.on_pty("status", cols=cols)
        assert t.rc == 0, t
        lines = [x for x in t.out.splitlines() if x]
        assert lines and all(len(x) <= cols for x in lines), (cols, t.out)
        head = lines[0].split()
        assert head[:2] == ["ENV", "KEY"] and "STATE" in head and head[-1] == "REASON", head
        assert "TRY" not in head and "NEXT" not in head, head  # nothing is retrying
        assert any(big.key in x and "pending" in x for x in lines), t.out
    wide = world.gd.on_pty("status", cols=250)
    assert wide.out.splitlines()[0].split() == every, wide.out

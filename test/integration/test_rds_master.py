"""(i) The master is RDS-like (not a superuser) and gprdsd grants it what it needs: membership
in each owner role (DESIGN §3), and nothing more."""

from checks import provision
from servers import MASTER_USER


def test_master_is_not_superuser_and_member_of_owner_roles(world):
    r = world.pg.role(MASTER_USER)
    assert not r["super"] and r["createrole"] and r["createdb"]
    lay, _, _ = provision(world)
    r = world.pg.role(MASTER_USER)
    assert not r["super"], "gprdsd must not need (or grant) superuser"
    for e in lay.owners():
        assert world.pg.member_of(MASTER_USER, e.username), \
            f"{MASTER_USER} is not a member of owner role {e.username}"
    rows = world.gd.audit_rows("dev") + world.gd.audit_rows("test")
    for e in lay.owners():
        assert any(x["username"] == e.username and "member" in (x["action"] + x["message"])
                   for x in rows) or any(x["action"] == "grant_membership" for x in rows), \
            f"the membership grant for {e.username} is not audited"


def test_app_roles_are_not_members_of_anything(world):
    lay, _, _ = provision(world)
    roles = [e.username for e in lay.entries] + [MASTER_USER]
    for e in lay.entries:
        for other in roles:
            assert not world.pg.member_of(e.username, other), \
                f"{e.username} was made a member of {other}"

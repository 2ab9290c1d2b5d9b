#!/usr/bin/env python3
"""Helpers for bench/run.sh: read the figures out of gprdsd's output, the server log, the
audit file and moto's request log. Standard library only; prints shell-friendly lines.

    analyze.py summary FILE             gprdsd --once stdout -> key=value lines for env dev
    analyze.py pglog LOG TAG            server log between the markers of TAG -> key=value
    analyze.py pgclasses LOG TAG        ... the same, per statement class (count, server ms)
    analyze.py audit CSV                audit rows -> per action: rows, errors, total ms
    analyze.py smactions LOG FROM TO    bench/latency_proxy.py's log, lines FROM+1..TO ->
                                        per Secrets Manager action: requests, answer ms
    analyze.py perentry N COLD FLOOR SM the cold pass per entry against the floor: the
                                        pgclasses files of both and the smactions file
    analyze.py smlist PORT PREFIX       time a full ListSecrets listing (as gprdsd pages it)
    analyze.py median V...              median of numbers
"""

import csv
import json
import re
import statistics
import sys
import time
import urllib.request
from collections import OrderedDict, defaultdict

SUMMARY_RE = re.compile(
    r"^(?P<env>\w+): (?P<active>\d+) active, (?P<pending>\d+) pending \((?P<gated>\d+) at a gate, "
    r"(?P<invalid>\d+) invalid\), (?P<failed>\d+) failed; (?P<applied>\d+) changes? applied, "
    r"(?P<errors>\d+) errors?; (?P<orphaned>\d+) orphaned; (?P<seconds>[0-9.]+)s, "
    r"(?P<statements>\d+) SQL statements, (?P<sm_calls>\d+) Secrets Manager calls")

# '%m [%p] %q%u@%d ' then the message.
LINE_RE = re.compile(r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] (?:(?P<user>[^@ ]*)@(?P<db>\S*) )?"
                     r"(?P<level>[A-Z]+):  (?P<msg>.*)$")


def summary(path, env="dev"):
    with open(path) as f:
        for line in f:
            m = SUMMARY_RE.match(line.strip())
            if m and m["env"] == env:
                for k, v in m.groupdict().items():
                    print(f"{k}={v}")
                return 0
    print("parsed=0")
    return 1


def segment(path, tag):
    """The log lines strictly between this tag's begin and end markers."""
    begin, end = f"gprdsd-bench:begin:{tag}'", f"gprdsd-bench:end:{tag}'"
    out, inside = [], False
    with open(path, errors="replace") as f:
        for line in f:
            if begin in line:
                inside = True
                continue
            if end in line:
                return out
            if inside:
                out.append(line.rstrip("\n"))
    raise SystemExit(f"analyze.py: markers for {tag} not found in {path}")


def classify(sql):
    s = " ".join(sql.split()).upper()
    for pat, name in (
        (r"^CREATE ROLE", "CREATE ROLE"),
        (r"^ALTER ROLE \S+ PASSWORD", "ALTER ROLE PASSWORD"),
        (r"^ALTER ROLE", "ALTER ROLE"),
        (r"^COMMENT ON ROLE", "COMMENT ON ROLE"),
        (r"^GRANT CONNECT", "GRANT CONNECT, TEMPORARY"),
        (r"^GRANT \S+ TO ", "GRANT role TO master"),
        (r"^CREATE DATABASE", "CREATE DATABASE"),
        (r"^REVOKE ALL ON DATABASE", "REVOKE ALL ON DATABASE"),
        (r"^SELECT 1 FROM PG_CATALOG.PG_DATABASE WHERE", "SELECT database exists"),
        (r"^SELECT ROLCANLOGIN", "SELECT role exists"),
        (r"^SELECT PG_TRY_ADVISORY_LOCK", "SELECT advisory lock"),
        (r"^SELECT 1$", "SELECT 1 (connection check)"),
        (r"^(SELECT|WITH)", "SELECT (observe)"),
        (r"^(BEGIN|COMMIT|ROLLBACK)", "BEGIN/COMMIT"),
    ):
        if re.match(pat, s):
            return name
    return s.split(" ")[0] if s else "?"


def statements(lines):
    """(pid, class, server ms) per statement the server logged, plus connection counts."""
    stmts, last, conns = [], {}, defaultdict(int)
    for line in lines:
        m = LINE_RE.match(line)
        if not m:
            continue  # continuation line of a multi-line statement or DETAIL
        pid, msg = m["pid"], m["msg"]
        if msg.startswith("statement: "):
            sql, proto = msg[len("statement: "):], "simple"
        elif msg.startswith("execute "):
            sql, proto = msg.split(": ", 1)[1] if ": " in msg else "", "extended"
        elif msg.startswith("duration: ") and pid in last:
            # The first duration after a statement line is that statement's run time (for the
            # extended protocol, parse and bind durations come before its "execute" line).
            stmts[last.pop(pid)][3] = float(msg.split()[1])
            continue
        elif msg.startswith("connection authorized: "):
            um = re.search(r"user=(\S+)", msg)
            user = um.group(1) if um else "?"
            if user != "postgres":  # the harness's own marker sessions
                conns["master" if user == "rdsmaster" else "app"] += 1
            continue
        else:
            continue
        last[pid] = len(stmts)
        stmts.append([pid, classify(sql), proto, 0.0])
    return stmts, conns


def pglog(path, tag):
    stmts, conns = statements(segment(path, tag))
    print(f"statements={len(stmts)}")
    print(f"simple={sum(1 for s in stmts if s[2] == 'simple')}")
    print(f"extended={sum(1 for s in stmts if s[2] == 'extended')}")
    print(f"server_ms={sum(s[3] for s in stmts):.1f}")
    print(f"connections_master={conns['master']}")
    print(f"connections_app={conns['app']}")
    return 0


def pgclasses(path, tag):
    stmts, conns = statements(segment(path, tag))
    agg = OrderedDict()
    for _, cls, _, ms in stmts:
        n, t = agg.get(cls, (0, 0.0))
        agg[cls] = (n + 1, t + ms)
    for cls, (n, t) in sorted(agg.items(), key=lambda kv: -kv[1][1]):
        print(f"{cls}\t{n}\t{t:.1f}")
    for k in ("master", "app"):
        if conns[k]:
            print(f"connections ({k})\t{conns[k]}\t-")
    return 0


def audit(path):
    agg = OrderedDict()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            a = row["action"]
            n, e, t = agg.get(a, (0, 0, 0))
            agg[a] = (n + 1, e + (row["status"] == "error"), t + int(row["duration_ms"] or 0))
    for a, (n, e, t) in sorted(agg.items(), key=lambda kv: -kv[1][2]):
        print(f"{a}\t{n}\t{e}\t{t}")
    return 0


def smactions(path, first, last):
    """Requests the proxy forwarded in lines first+1..last of its log, per action."""
    agg = OrderedDict()
    with open(path) as f:
        for i, line in enumerate(f):
            if i < first:
                continue
            if i >= last:
                break
            parts = line.split()
            if len(parts) == 6 and parts[1] == "answer":
                n, t = agg.get(parts[3], (0, 0.0))
                agg[parts[3]] = (n, t + float(parts[5]))
            elif len(parts) == 5:
                n, t = agg.get(parts[2], (0, 0.0))
                agg[parts[2]] = (n + 1, t)
    for a, (n, t) in sorted(agg.items(), key=lambda kv: -kv[1][0]):
        if n:
            print(f"{a}\t{n}\t{t:.1f}")
    return 0


def read_tsv(path):
    rows = OrderedDict()
    try:
        with open(path) as f:
            for line in f:
                k, n, t = line.rstrip("\n").split("\t")
                rows[k] = (int(n), None if t == "-" else float(t))
    except FileNotFoundError:
        pass
    return rows


def perentry(n, cold_path, floor_path, sm_path):
    """One row per statement class, login and Secrets Manager action of the cold pass."""
    n = int(n)
    cold, floor, sm = read_tsv(cold_path), read_tsv(floor_path), read_tsv(sm_path)

    def each(c, t):
        return "-" if t is None or not c else f"{t / c:.2f}"

    fmt = "{:<34} {:>7} {:>9} {:>7} {:>9} {:>9} {:>9}"
    print(fmt.format("kind", "cold", "per entry", "floor", "per entry", "ms each", "floor ms"))
    tot = [0, 0]
    for k in list(cold) + [k for k in floor if k not in cold]:
        c, ct = cold.get(k, (0, None))
        f, ft = floor.get(k, (0, None))
        if not k.startswith("connections"):
            tot[0] += c
            tot[1] += f
        name = k.replace("connections (app)", "login (application role)").replace(
            "connections (master)", "login (master)")
        print(fmt.format(name if k.startswith("connections") else "SQL " + k, c, f"{c / n:.2f}",
                         f, f"{f / n:.2f}", each(c, ct), each(f, ft)))
    print(fmt.format("SQL, all statements", tot[0], f"{tot[0] / n:.2f}", tot[1],
                     f"{tot[1] / n:.2f}", "", ""))
    smtot = 0
    for k, (c, t) in sm.items():
        smtot += c
        print(fmt.format("Secrets Manager " + k, c, f"{c / n:.2f}", 0, "0.00", each(c, t), "-"))
    print(fmt.format("Secrets Manager, all calls", smtot, f"{smtot / n:.2f}", 0, "0.00", "", ""))
    return 0


def smlist(port, prefix, region="eu-west-2"):
    """ListSecrets pages of 100 filtered by name prefix, like gprdsd's observation, against
    moto (which does not check signatures; the Credential scope only selects the region)."""
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.ListSecrets",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/"
                         "secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
    }
    body = {"MaxResults": 100, "Filters": [{"Key": "name", "Values": [prefix]}]}
    pages = secrets = 0
    t0 = time.monotonic()
    while True:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", json.dumps(body).encode(),
                                     headers)
        with urllib.request.urlopen(req, timeout=60) as r:
            resp = json.load(r)
        pages += 1
        secrets += len(resp.get("SecretList", []))
        if not resp.get("NextToken"):
            break
        body["NextToken"] = resp["NextToken"]
    print(f"pages={pages}")
    print(f"secrets={secrets}")
    print(f"seconds={time.monotonic() - t0:.3f}")
    return 0


def main(argv):
    if len(argv) == 2 and argv[0] == "summary":
        return summary(argv[1])
    if len(argv) == 3 and argv[0] == "pglog":
        return pglog(argv[1], argv[2])
    if len(argv) == 3 and argv[0] == "pgclasses":
        return pgclasses(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "audit":
        return audit(argv[1])
    if len(argv) == 4 and argv[0] == "smactions":
        return smactions(argv[1], int(argv[2]), int(argv[3]))
    if len(argv) == 5 and argv[0] == "perentry":
        return perentry(*argv[1:])
    if len(argv) == 3 and argv[0] == "smlist":
        return smlist(argv[1], argv[2])
    if len(argv) >= 2 and argv[0] == "median":
        print(f"{round(statistics.median(float(x) for x in argv[1:]), 4):g}")
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

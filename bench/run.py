"""`make bench`: the storefront behind gunicorn on PostgreSQL and Redis, under load, next to a bare view.

1. create a fresh PostgreSQL database, start the sandbox and gunicorn (sync workers) on free 127.0.0.1 ports;
2. drive each page with concurrent signed-in sessions for a fixed time (the loops stop by themselves);
3. measure in-process: Partner Center calls per journey, SQL queries per page, one polling pass over 10,000;
4. print one table and write it to var/bench/latest.md; drop the database and stop what it started.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
SLICE = 1.0  # seconds per slice; the rows take turns slice by slice
DELAY_MS = int(os.environ.get("BENCH_DELAY_MS", "150"))  # Microsoft's answer time in the delayed run
DELAY_SESSIONS = 2  # buyers in the delayed run: few, so the wait is the page's, not a queue for a worker
LOAD_ONLY = os.environ.get("BENCH_LOAD_ONLY") == "1"  # only the pages under load, for quick comparisons


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout:.0f}s")


def run(args: list[str], env: dict[str, str], prefix: str = "") -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-5000:])
        raise SystemExit(f"failed: {' '.join(args)}")
    if prefix:
        line = next(line for line in result.stdout.splitlines() if line.startswith(prefix))
        return line.removeprefix(prefix)
    return result.stdout


# -- load --------------------------------------------------------------------------------------------------------


class Session:
    """One signed-in browser: session cookie, CSRF token, API token."""

    def __init__(self, base: str, email: str, password: str, token: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.get(f"{base}/accounts/login/", timeout=10)
        csrf = self.http.cookies["csrftoken"]
        response = self.http.post(
            f"{base}/accounts/login/",
            {"username": email, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, f"sign-in failed for {email}: {response.status_code}"
        self.csrf = self.http.cookies["csrftoken"]
        self.token = token
        self._checked = [_prefix(), _prefix()]

    def checked_prefix(self) -> str:
        """Two prefixes in turn: each asked of Microsoft once, then answered from the cache, and the draft is
        saved on every check as with a new prefix, so the two domain rows differ only by the two calls."""
        self._checked.reverse()
        return self._checked[0]

    def htmx(self, path: str, data: dict) -> requests.Response:
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf, "Referer": f"{self.base}/"}
        return self.http.post(f"{self.base}{path}", data, headers=headers, timeout=30)


def _prefix() -> str:
    return "bl" + "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


BARE = "bare Django view (same middleware)"
BARE_LOOKUPS = "bare view + the two lookups, concurrently (htmx POST)"
NEW_PREFIX = "domain check (htmx, new prefix each time)"
CHECKED_PREFIX = "domain check (htmx, prefix already checked)"
API_DOMAIN = "API GET /api/v1/domains/{prefix}/"


def _bare_lookups(s: Session) -> requests.Response:
    return s.htmx("/bench/bare-lookups/", {"domain_prefix": _prefix()})


def _new_prefix(s: Session) -> requests.Response:
    return s.htmx(
        "/checkout/service-details/check/",
        {"domain_prefix": _prefix(), "mpn_id": "1234567", "check": "domain"},
    )


# Each row and the peer that does the same unavoidable work (None: the row is a peer).
SCENARIOS: dict[str, tuple] = {
    BARE: (lambda s: s.http.get(f"{s.base}/bench/bare/", timeout=30), None),
    BARE_LOOKUPS: (_bare_lookups, None),
    "Service Details page (GET)": (
        lambda s: s.http.get(f"{s.base}/checkout/service-details/", timeout=30),
        BARE,
    ),
    NEW_PREFIX: (_new_prefix, BARE_LOOKUPS),
    CHECKED_PREFIX: (
        lambda s: s.htmx(
            "/checkout/service-details/check/",
            {"domain_prefix": s.checked_prefix(), "mpn_id": "1234567", "check": "domain"},
        ),
        BARE,
    ),
    "MPN check (htmx)": (
        lambda s: s.htmx(
            "/checkout/service-details/check/", {"domain_prefix": "", "mpn_id": "1234567", "check": "mpn"}
        ),
        BARE,
    ),
    API_DOMAIN: (
        lambda s: s.http.get(
            f"{s.base}/api/v1/domains/{_prefix()}/", headers={"Authorization": f"Token {s.token}"}, timeout=30
        ),
        BARE_LOOKUPS,
    ),
}
# The run with Microsoft's latency: what the buyer waits for a new prefix, next to the peer's wait.
DELAYED = (BARE_LOOKUPS, NEW_PREFIX)


def load(sessions: list[Session], action, seconds: float) -> dict:
    """Each session in its own thread sends requests back to back until the time is up."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(session: Session) -> None:
        nonlocal errors
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                response = action(session)
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            mine.append(time.perf_counter() - started)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return {"latencies": latencies, "errors": errors, "elapsed": time.monotonic() - started}


def summary(parts: list[dict], cpu: dict[str, float]) -> dict:
    """One row from its slices: throughput over the time it ran, latency quantiles, CPU per request."""
    latencies = sorted(x for part in parts for x in part["latencies"])
    elapsed = sum(part["elapsed"] for part in parts)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    count = len(latencies)
    return {
        "requests": count,
        "rps": count / elapsed if elapsed else 0,
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "errors": sum(part["errors"] for part in parts),
        "cpu_ms": {group: seconds * 1000 / max(count, 1) for group, seconds in cpu.items()},
    }


def interleaved(sessions, keys: list, seconds: float, pids: tuple[int, int, str], setup=None) -> dict:
    """Runs the rows in turn, one-second slices, until each has had `seconds`: the other helpers' and the
    machine's load then falls on every row alike, so a row's ratio to its peer is fair even on a busy machine.

    A key is a row's name, or (name, delay in ms) with `setup(delay)` called before each slice."""
    parts: dict = {key: [] for key in keys}
    cpu: dict = {key: dict.fromkeys(CPU_GROUPS, 0.0) for key in keys}
    for _ in range(max(1, round(seconds / SLICE))):
        for key in keys:
            name = key[0] if isinstance(key, tuple) else key
            if setup is not None:
                setup(key[1])
            before = cpu_snapshot(*pids)
            parts[key].append(load(sessions, SCENARIOS[name][0], SLICE))
            after = cpu_snapshot(*pids)
            for group in CPU_GROUPS:
                cpu[key][group] += cpu_delta(before, after, group)
    return {key: summary(parts[key], cpu[key]) for key in keys}


# -- where the CPU goes -------------------------------------------------------------------------------------------

CPU_GROUPS = ("storefront (gunicorn)", "sandbox", "postgres", "redis", "load generator")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[str, int, float]]:
    """Every process as (command name, parent pid, CPU seconds), from one read of each /proc/<pid>/stat."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
            name, rest = text[text.index("(") + 1 :].rsplit(")", 1)
            fields = rest.split()
            found[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we read
    return found


def _postgres_of(pid: int, db: str) -> bool:
    """A backend serving the bench's database (its title names the database), not another helper's."""
    try:
        return db in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def cpu_snapshot(gunicorn_pid: int, sandbox_pid: int, db: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each process of each part of the system (Linux /proc); empty elsewhere."""
    if not Path("/proc/self/stat").exists():
        return {}
    processes = _processes()

    def pids(match) -> dict[int, float]:
        return {pid: cpu for pid, (name, parent, cpu) in processes.items() if match(pid, name, parent)}

    return {
        "storefront (gunicorn)": pids(lambda pid, name, parent: gunicorn_pid in (pid, parent)),
        "sandbox": pids(lambda pid, name, parent: pid == sandbox_pid),
        "postgres": pids(lambda pid, name, parent: name.startswith("postgres") and _postgres_of(pid, db)),
        "redis": pids(lambda pid, name, parent: name.startswith("redis-server")),
        "load generator": pids(lambda pid, name, parent: pid == os.getpid()),
    }


def cpu_delta(before: dict, after: dict, group: str) -> float:
    """CPU seconds a group used between two snapshots, per process (one that ended meanwhile is not counted)."""
    if group not in after:
        return 0.0
    old = before.get(group, {})
    return sum(max(0.0, cpu - old.get(pid, 0.0)) for pid, cpu in after[group].items())


# -- machine -----------------------------------------------------------------------------------------------------


def machine(env: dict[str, str], database_url: str) -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    match = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else ""
    import psycopg2
    import redis

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    redis_version = redis.Redis.from_url(REDIS_URL).info()["redis_version"]
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else "?",
        "python": platform.python_version(),
        "os": platform.platform(),
        "postgresql": pg,
        "redis": redis_version,
        "gunicorn": f"{WORKERS} sync workers",
        "load": (
            f"{CONCURRENCY} concurrent signed-in sessions, {SECONDS:.0f} s per row in {SLICE:.0f}-second turns, "
            "generator on the same machine"
        ),
    }


# -- report ------------------------------------------------------------------------------------------------------


TARGET = 0.8  # every row at least this share of its peer's throughput


def ceiling_note(loads) -> list[str]:
    """What the two Partner Center round trips of a new prefix cost, from the two peers' CPU per request."""
    if not all(name in loads for name in (BARE_LOOKUPS, BARE)):
        return []
    total = {name: sum(loads[name]["cpu_ms"].values()) for name in (BARE_LOOKUPS, BARE)}
    calls = total[BARE_LOOKUPS] - total[BARE]
    return [
        f"The two lookups alone (plain requests, concurrently) cost {calls:.1f} ms of CPU per request on this "
        f"machine in this run (the bare-lookups peer minus the bare view: {total[BARE_LOOKUPS]:.1f} and "
        f"{total[BARE]:.1f} ms)."
    ]


def load_table(loads: dict, *, with_peer: bool = True) -> list[str]:
    out = [
        "| row | peer | requests | req/s | p50 ms | p95 ms | errors | ratio to peer |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in loads.items():
        peer = SCENARIOS[name][1]
        if peer is None or peer not in loads:
            peer_cell, ratio = "(a peer)", ""
        else:
            value = r["rps"] / loads[peer]["rps"] if loads[peer]["rps"] else 0
            peer_cell = "bare view" if peer == BARE else "bare view + two lookups"
            ratio = f"{value:.2f}" if value >= TARGET else f"**{value:.2f}**"
        out.append(
            f"| {name} | {peer_cell} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['errors']} | {ratio} |"
        )
    return out


def report(machine_info, loads, delayed, figures) -> str:
    out = ["## Machine", "", "| | |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in machine_info.items()]
    out += ["", "## Pages under load, each next to its peer (sandbox with zero latency)", ""]
    out += load_table(loads)
    out += ["", f"Rows in **bold** are under {TARGET} of their peer."]
    if all(r.get("cpu_ms") for r in loads.values()):
        out += ["", "CPU milliseconds per request, by process (from /proc, same run):", ""]
        out += [
            "| row | " + " | ".join(CPU_GROUPS) + " | total |",
            "| --- |" + " ---: |" * (len(CPU_GROUPS) + 1),
        ]
        for name, r in loads.items():
            cells = [f"{r['cpu_ms'][g]:.1f}" for g in CPU_GROUPS]
            out.append(f"| {name} | " + " | ".join(cells) + f" | {sum(r['cpu_ms'].values()):.1f} |")
        out += ["", *ceiling_note(loads)]
    if delayed:
        rows = delayed["loads"]
        out += [
            "",
            f"## The buyer's wait with Microsoft answering after {DELAY_MS} ms",
            "",
            f"Every host the sandbox plays (Partner Center, sign-in) answers at once or after {DELAY_MS} ms, the "
            f"two settings in turns; {delayed['sessions']} buyers. What the delay adds to the wait is the row's "
            f"p50 with the delay minus its p50 without: one delay ({DELAY_MS} ms) when the two lookups are made "
            "concurrently, two when one waits for the other.",
            "",
            "| row | requests | p50 ms, no delay | p50 ms, delayed | p95 ms, delayed | added by the delay "
            "| in delays | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in DELAYED:
            fast, slow = rows[(name, 0)], rows[(name, DELAY_MS)]
            added = slow["p50_ms"] - fast["p50_ms"]
            out.append(
                f"| {name} | {slow['requests']} | {fast['p50_ms']:.0f} | {slow['p50_ms']:.0f} "
                f"| {slow['p95_ms']:.0f} | {added:.0f} | {added / DELAY_MS:.2f} "
                f"| {fast['errors'] + slow['errors']} |"
            )
    out += [
        "",
        "## Partner Center calls per checkout",
        "",
        "| journey | calls | contract minimum |",
        "| --- | ---: | ---: |",
    ]
    for name, r in figures["journeys"].items():
        out.append(f"| {name} | {r['calls']} | {r['minimum']} |")
    parts = figures.get("parts")
    if parts:
        out += [
            "",
            "## What the pages do beyond the bare view, piece by piece",
            "",
            "CPU ms in one process (the bench database and Redis), median of 9 rounds of 200 calls each:",
            "",
            "| piece | CPU ms |",
            "| --- | ---: |",
        ]
        out += [f"| {name} | {ms:.2f} |" for name, ms in parts.items()]
    out += ["", "## SQL queries per page", ""]
    columns = ["10 products", "1,000 products", "10 authorizations", "10,000 authorizations"]
    out += ["| page | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for name, r in figures["queries"].items():
        out.append(f"| {name} | " + " | ".join(str(r[c]) for c in columns) + " |")
    polling = figures.get("polling")
    out += ["", "## One polling pass", ""]
    if polling:
        out += ["| | |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in polling.items()]
    else:
        out.append("Not measured in this run (BENCH_LOAD_ONLY=1).")
    return "\n".join(out) + "\n"


def main() -> None:
    started = time.monotonic()
    db_name = f"csp_bench_{os.getpid()}"
    database_url = f"{PG_ADMIN}/{db_name}"
    sandbox_port, web_port = free_port(), free_port()
    sandbox_url, base = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PARTNER_CENTER_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="false",
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        PARTNER_CENTER_MODE="sandbox",
        PARTNER_CENTER_SANDBOX_URL=sandbox_url,
        LOOKUP_THROTTLE_RATE="1000000/min",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    import psycopg2
    import redis

    admin = psycopg2.connect(f"{PG_ADMIN}/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{db_name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    processes: list[subprocess.Popen] = []
    try:
        print(f"bench: database {db_name}, sandbox {sandbox_url}, gunicorn {base}", flush=True)
        processes.append(
            subprocess.Popen(
                [PYTHON, "manage.py", "partner_center_sandbox", "--port", str(sandbox_port)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        wait_for(f"{sandbox_url}/_sandbox/state")
        users = json.loads(run([PYTHON, "-m", "bench.data", str(CONCURRENCY)], env, prefix="USERS "))
        processes.append(
            subprocess.Popen(
                [str(BIN / "gunicorn"), "storefront.wsgi", "-w", str(WORKERS), "-b", f"127.0.0.1:{web_port}",
                 "--log-level", "warning"],
                cwd=ROOT, env=env,
            )
        )  # fmt: skip
        wait_for(f"{base}/accounts/login/")
        from bench.data import BENCH_PASSWORD

        sessions = [Session(base, email, BENCH_PASSWORD, token) for email, token in users]
        for action, _peer in SCENARIOS.values():  # warm every worker's connections and caches
            load(sessions, action, 1)
        pids = (processes[1].pid, processes[0].pid, db_name)
        names = list(SCENARIOS)
        print(f"bench: {len(names)} rows in turns of {SLICE:.0f} s, {SECONDS:.0f} s each ...", flush=True)
        loads = interleaved(sessions, names, SECONDS, pids)
        for name, r in loads.items():
            print(
                f"  {name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms",
                flush=True,
            )

        def latency(delay_ms: int) -> None:
            answer = requests.post(
                f"{sandbox_url}/_sandbox/config", json={"base_latency_ms": delay_ms}, timeout=10
            )
            answer.raise_for_status()

        few = sessions[:DELAY_SESSIONS]
        print(f"bench: the buyer's wait, Microsoft answering at once and after {DELAY_MS} ms ...", flush=True)
        keys = [(name, delay) for name in DELAYED for delay in (0, DELAY_MS)]
        delayed_loads = interleaved(few, keys, SECONDS, pids, setup=latency)
        delayed = {"sessions": len(few), "loads": delayed_loads}
        for (name, delay), r in delayed_loads.items():
            print(f"  {name} ({delay} ms): p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms", flush=True)
        latency(0)
        print("bench: calls per journey, queries per page, polling pass ...", flush=True)
        if LOAD_ONLY:
            figures = {"journeys": {}, "parts": {}, "queries": {}, "polling": None}
        else:
            figures = json.loads(run([PYTHON, "-m", "bench.figures"], env, prefix="FIGURES "))
        text = report(machine(env, database_url), loads, delayed, figures)
        text += f"\nTotal bench time: {time.monotonic() - started:.0f} s.\n"
        print()
        print(text)
        out = ROOT / "var" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        (out / "latest.md").write_text(text)
        (out / "latest.json").write_text(
            json.dumps(
                {
                    "loads": loads,
                    "delayed": {f"{name} ({delay} ms)": r for (name, delay), r in delayed["loads"].items()},
                    "figures": figures,
                },
                indent=2,
            )
        )
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()

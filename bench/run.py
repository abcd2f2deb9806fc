"""Benchmark Returns Desk under gunicorn: p50/p95/p99 and requests/s per endpoint.

Usage (a database seeded with `manage.py seed_bench --units N`):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/returns_bench .venv/bin/python bench/run.py

It starts gunicorn (DEBUG off, -w 2, whitenoise over a collectstatic'd STATIC_ROOT) on 127.0.0.1,
logs bench users in (session cookie + CSRF token) and drives each endpoint for DURATION
seconds with CONNECTIONS client processes (one keep-alive-free connection per request, as
gunicorn's sync workers close them). State-changing endpoints consume prepared work, and
only the measured request of each cycle is timed (see FLOWS). It prints a Markdown table.

gunicorn serves bench.settings: the project with two floor views added (bench/urls.py), a
clerk's POST with the scan's checks and nothing else, then with one locked row and a commit.
With the bare view they show where a scan's cost lies: in the request, the transaction, or
the scan's own work.

By default every connection sends its next request as soon as the last one answered: the
figures are those of a saturated server (both workers and PostgreSQL always busy), and
requests/s is its capacity. With BENCH_PACED_RPS=R each connection starts at most R measured
requests a second (the untimed requests of a cycle still go in between), so the latencies are
those a clerk sees at that load rather than queueing behind the benchmark's own requests; GETs
then go through the Python client too, since wrk cannot pace.
"""

import http.client
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = float(os.environ.get("BENCH_SECONDS", "12"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "2"))
PACED_RPS = float(os.environ.get("BENCH_PACED_RPS", "0"))
PASSWORD = "bench-password-1234"
ENV = {
    **os.environ,
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "HTTPS": "false",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_desk.settings")


class Client:
    """A logged-in browser: cookies and the CSRF token, one connection per request."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, method, path, data=None, headers=None):
        body = urllib.parse.urlencode(data, doseq=True) if data is not None else None
        head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            head["Content-Type"] = "application/x-www-form-urlencoded"
            head["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        head.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        conn.request(method, path, body=body, headers=head)
        response = conn.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, content

    def login(self, username, station_pk=None):
        self.request("GET", "/accounts/login/")
        status, _ = self.request(
            "POST", "/accounts/login/", {"username": username, "password": PASSWORD}
        )
        assert status == 302, f"login of {username} answered {status}"
        if station_pk:
            self.request("POST", "/station/", {"station": station_pk})


HX = {"HX-Request": "true"}


def prepare(connections: int) -> dict:
    """Users, stations, an API key and the work each state-changing flow consumes."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from inspection.selectors import checklist_for
    from returns_desk import apikeys, services
    from returns_desk.models import Product, Program, ReasonCode, ReturnItem, Station
    from returns_desk.roles import CLERK, SUPERVISOR
    from tests.factories import best_answer

    run = str(int(time.time()))
    lon = {s.code: s for s in Station.objects.filter(site__code="lon")}

    def user(name, role):
        account, _ = User.objects.get_or_create(username=name)
        account.set_password(PASSWORD)
        account.save()
        account.groups.set([Group.objects.get(name=role)])
        return name

    product = Product.objects.filter(serialised=False).order_by("sku").first()
    program = Program.objects.get(code="customer-return")
    reason = ReasonCode.objects.get(code="changed-mind")
    plan = {
        "receive": [],
        "receive_whole": [],
        "inspect": [],
        "decide": [],
        "supervisor": user("bench-sup", SUPERVISOR),
    }
    received = list(
        ReturnItem.objects.filter(status="received", product__isnull=False)
        .select_related("product", "rma_line__rma")
        .order_by("-pk")[: connections * 400]
    )
    inspected = list(
        ReturnItem.objects.filter(status="inspected").order_by("-pk").values_list("lpn", flat=True)
    )[: connections * 600]

    def rmas(prefix):
        return [
            services.create_rma(
                number=f"{prefix}-{n}",
                program=program,
                channel="web",
                lines=[services.NewLine(product=product, quantity=5, reason=reason)],
            ).number
            for n in range(150)
        ]

    for i in range(connections):
        clerk = user(f"bench-rcv-{i}", CLERK)
        for flow, whole in (("receive", False), ("receive_whole", True)):
            numbers = rmas(f"LOAD-{run}-{flow}-{i}")
            plan[flow].append((clerk, lon["RCV-02"].pk, numbers, product.sku, whole))
        work = [
            (item.lpn, {f"c-{c.pk}": best_answer(c) for c in checklist_for(item)})
            for item in received[i::connections]
        ]
        plan["inspect"].append((user(f"bench-ins-{i}", CLERK), lon["INS-01"].pk, work))
        plan["decide"].append(
            (user(f"bench-dec-{i}", CLERK), lon["MIX-01"].pk, inspected[i::connections])
        )
    plan["lpns"] = list(ReturnItem.objects.order_by("?").values_list("lpn", flat=True)[:200])
    plan["rmas"] = [
        lpn
        for lpn in ReturnItem.objects.filter(lpn__in=plan["lpns"]).values_list(
            "rma_line__rma__number", flat=True
        )
        if lpn
    ]
    plan["api_key"] = apikeys.issue_key(name=f"bench {run}")[1]
    from disposition.models import Lot

    # The seed's lots are far larger than a real pallet: the worst case for a manifest.
    plan["largest_lot"] = Lot.objects.order_by("-units").values_list("pk", "units").first()
    return plan


_next_start = 0.0  # per client process: when a paced connection may start its next request


def timed(client, method, path, data=None, headers=None, samples=None):
    global _next_start
    if PACED_RPS:
        now = time.perf_counter()
        if now < _next_start:
            time.sleep(_next_start - now)
        _next_start = max(now, _next_start) + 1 / PACED_RPS
    started = time.perf_counter()
    status, body = client.request(method, path, data, headers)
    samples.append((time.perf_counter() - started, status))
    return status, body


def flow_get(args, deadline, samples):
    username, paths, headers = args
    client = Client()
    if username:
        client.login(username)
    i = 0
    while time.perf_counter() < deadline:
        timed(client, "GET", paths[i % len(paths)], headers=headers, samples=samples)
        i += 1


def flow_receive(args, deadline, samples):
    """Per parcel: open it by its RMA (untimed), scan its 5 units from the desk it shows (timed),
    close it (untimed). With `whole`, each scan asks for the whole desk, as every scan did
    before run 14 (for comparison: no clerk's page asks for it)."""
    username, station, rmas, sku, whole = args
    client = Client()
    client.login(username, station)
    for number in rmas:
        if time.perf_counter() >= deadline:
            return
        status, body = client.request("POST", "/receiving/scan/", {"code": number}, HX)
        # As the desk's form does: it names the parcel on the page, so each answer is a delta.
        parcel = re.search(rb'name="parcel_shown" value="(\d+)"', body)[1].decode()
        scan = {"code": sku, "parcel_shown": "" if whole else parcel}
        for _ in range(5):
            timed(client, "POST", "/receiving/scan/", scan, HX, samples)
        client.request("POST", f"/receiving/parcels/{parcel}/close/", {}, HX)


def flow_floor(args, deadline, samples):
    """A receiving clerk's POST to a floor view (bench/urls.py), again and again (timed)."""
    username, station, path = args
    client = Client()
    client.login(username, station)
    # A floor that redirected (to the login or station page) would be fast and mean nothing.
    status, _ = client.request("POST", path, {}, HX)
    assert status == 200, f"{path} answered {status}"
    while time.perf_counter() < deadline:
        timed(client, "POST", path, {}, HX, samples)


def flow_inspect(args, deadline, samples):
    """Per unit: scan its LPN to open the checklist (untimed), submit the answers (timed)."""
    username, station, work = args
    client = Client()
    client.login(username, station)
    for lpn, answers in work:
        if time.perf_counter() >= deadline:
            return
        _, body = client.request("POST", "/inspection/scan/", {"code": lpn}, HX)
        found = re.search(rb"/inspection/inspections/(\d+)/complete/", body)
        path = f"/inspection/inspections/{found[1].decode()}/complete/"
        timed(client, "POST", path, answers, HX, samples)


def flow_decide(args, deadline, samples):
    """Per unit: confirm the recommended disposition of an inspected unit (timed)."""
    username, station, lpns = args
    client = Client()
    client.login(username, station)
    for lpn in lpns:
        if time.perf_counter() >= deadline:
            return
        timed(client, "POST", f"/disposition/units/{lpn}/", {"outcome": ""}, HX, samples)


def _worker(flow, args, deadline, queue):
    samples = []
    try:
        flow(args, deadline, samples)
    finally:
        queue.put(samples)


def drive(name, flow, per_connection):
    queue = multiprocessing.Queue()
    started = time.perf_counter()
    deadline = started + DURATION
    procs = [
        multiprocessing.Process(target=_worker, args=(flow, args, deadline, queue))
        for args in per_connection
    ]
    for proc in procs:
        proc.start()
    samples = [s for _ in procs for s in queue.get()]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(s[0] * 1000 for s in samples)
    errors = sum(1 for s in samples if s[1] >= 400)
    if len(latencies) < 2:
        return {"name": name, "n": len(latencies), "errors": errors}
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "name": name,
        "n": len(latencies),
        "errors": errors,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "rps": len(latencies) / elapsed,
    }


def drive_wrk(name, client, paths, headers=None):
    """GET `paths` in turn with wrk (C, so the client costs little of the 2 cores)."""
    head = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()), **(headers or {})}
    # wrk gives up on a request after 2 s by default; a slow page must count, not vanish.
    command = [
        "wrk",
        f"-t{CONNECTIONS}",
        f"-c{CONNECTIONS}",
        f"-d{DURATION:.0f}s",
        "--timeout",
        "60s",
    ]
    command += ["-s", str(ROOT / "bench" / "rotate.lua"), f"http://127.0.0.1:{PORT}"]
    for key, value in head.items():
        command += ["-H", f"{key}: {value}"]
    env = {**os.environ, "BENCH_PATHS": " ".join(paths)}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return {"name": name, **json.loads(out.strip().splitlines()[-1])}


def worker_rss(master_pid) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(master_pid)], capture_output=True, text=True
    ).stdout
    return [int(kb) // 1024 for kb in out.split()]


def export_csv(supervisor, path, master_pid):
    """Stream a CSV export; sample worker RSS every 0.2 s while it streams."""
    client = Client()
    client.login(supervisor)
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max([peak[0], *worker_rss(master_pid)])
            time.sleep(0.2)

    watcher = threading.Thread(target=sample)
    watcher.start()
    started = time.perf_counter()
    try:
        status, body = client.request("GET", path)
    except http.client.HTTPException as error:
        # A sync worker streaming past gunicorn's timeout (30 s) is killed mid-response.
        status, body = f"broke off after {time.perf_counter() - started:.0f} s ({error!r})", b""
    finally:
        done.set()
        watcher.join()
    return status, body.count(b"\n") - 1, time.perf_counter() - started, peak[0]


def refuse_busy_port() -> None:
    """Another server on PORT (say a bench left running) would answer instead of ours, against
    whatever database it was started on: every figure would be wrong and look plausible."""
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            sys.exit(f"127.0.0.1:{PORT} is already in use: stop that server or set BENCH_PORT.")


def main():
    refuse_busy_port()
    plan = prepare(CONNECTIONS)
    # Into settings.STATIC_ROOT (staticfiles/, ignored by git), where whitenoise serves it from.
    env = ENV
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    # What the deployment's quarter-hourly cron does (docs/deployment.md): the recall figures it
    # keeps fresh expire twenty minutes after the seed's roll-up, and a bench started later
    # would time one dashboard request recounting them (and every other request slowed by it).
    subprocess.run(
        [sys.executable, "manage.py", "rollup_dashboard", "--days", "1"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "returns_desk.wsgi",
            "-w",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )
    try:
        for _ in range(100):
            try:
                if Client().request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        sup = plan["supervisor"]
        lot_pk, lot_units = plan["largest_lot"]
        queue = "/supervisor/queues/{}/"
        units = [f"/supervisor/units/{lpn}/" for lpn in plan["lpns"]]
        api = [f"/api/v1/rmas/{number}" for number in plan["rmas"]]
        bearer = {"Authorization": f"Bearer {plan['api_key']}"}
        gets = [
            ("bare view /healthz (ceiling)", None, ["/healthz"], None),
            ("static file (whitenoise)", None, ["/static/css/desk.css"], None),
            *(
                (f"queue {key}", sup, [queue.format(key)], None)
                for key in (
                    "awaiting_inspection",
                    "awaiting_disposition",
                    "awaiting_approval",
                    "exceptions",
                    "open_lots",
                    "repairs",
                )
            ),
            (
                "queue awaiting_inspection, filtered (program)",
                sup,
                [queue.format("awaiting_inspection") + "?program=1"],
                None,
            ),
            (
                "queue awaiting_disposition, filtered (grade)",
                sup,
                [queue.format("awaiting_disposition") + "?grade=A"],
                None,
            ),
            ("units register", sup, ["/supervisor/units/"], None),
            ("units register, filtered (program)", sup, ["/supervisor/units/?program=1"], None),
            # A status few units are in: its first page is found far down the register.
            (
                "units register, filtered (status)",
                sup,
                ["/supervisor/units/?status=awaiting_approval"],
                None,
            ),
            ("unit timeline", sup, units, None),
            ("dashboard", sup, ["/supervisor/"], None),
            ("repair bench", sup, ["/disposition/repairs/"], None),
            (
                f"lot manifest, printed ({lot_units:,} units)",
                sup,
                [f"/disposition/lots/{lot_pk}/manifest/"],
                None,
            ),
            ("API RMA read", None, api, bearer),
        ]
        pace = f"at most {PACED_RPS:g} measured requests/s each" if PACED_RPS else "saturated"
        print(f"\nconnections: {CONNECTIONS} ({pace}), seconds per endpoint: {DURATION}\n")
        print("| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | req/s |")
        print("| --- | --- | --- | --- | --- | --- | --- |", flush=True)
        if shutil.which("wrk") and not PACED_RPS:
            for name, user, paths, headers in gets:
                client = Client()
                if user:
                    client.login(user)
                report(drive_wrk(f"{name} [wrk]", client, paths, headers))
        else:
            if not PACED_RPS:
                print("wrk is not installed (apt-get install -y wrk): GETs use the Python client.")
            for name, user, paths, headers in gets:
                report(drive(name, flow_get, [(user, paths, headers)] * CONNECTIONS))
        # The POST flows below use the Python client; its own bare-view figure is their ceiling.
        report(
            drive(
                "bare view /healthz (ceiling)", flow_get, [(None, ["/healthz"], None)] * CONNECTIONS
            )
        )
        for name, path in (
            ("floor: clerk POST, checks only", "/bench/floor/checks/"),
            ("floor: clerk POST, one locked row", "/bench/floor/locked-row/"),
        ):
            clerks = [(username, station, path) for username, station, *_ in plan["receive"]]
            report(drive(name, flow_floor, clerks))
        report(drive("receiving scan (unit)", flow_receive, plan["receive"]))
        report(drive("receiving scan (unit), whole desk", flow_receive, plan["receive_whole"]))
        report(drive("inspection submit", flow_inspect, plan["inspect"]))
        report(drive("disposition decision", flow_decide, plan["decide"]))
        print(f"\ngunicorn worker RSS after the run: {worker_rss(gunicorn.pid)} MB", flush=True)
        for name, path in (
            ("repairs queue", queue.format("repairs") + "export.csv"),
            ("units register, every unit", "/supervisor/units/export.csv"),
            (f"lot manifest, {lot_units:,} units", f"/disposition/lots/{lot_pk}/manifest.csv"),
        ):
            status, rows, seconds, peak = export_csv(sup, path, gunicorn.pid)
            print(
                f"CSV export ({name}): HTTP {status}, {rows:,} rows in {seconds:.1f} s, "
                f"peak worker RSS while streaming {peak} MB",
                flush=True,
            )
    finally:
        gunicorn.terminate()
        gunicorn.wait()


def report(result: dict) -> None:
    """One table row, printed as soon as it is measured."""
    r = result
    figures = " - | - | - | - "
    if "p50" in r:
        figures = f" {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['rps']:.0f} "
    print(f"| {r['name']} | {r['n']} | {r['errors']} |{figures}|", flush=True)


if __name__ == "__main__":
    main()

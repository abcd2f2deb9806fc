"""Concurrency and a fault through real HTTP: nothing lost, nothing done twice.

Creates a PostgreSQL database with a temporary name on 127.0.0.1, migrates and seeds it
(demo configuration, RMAS authorisations of UNITS units each, one station per client), starts
gunicorn with 3 workers, and runs CLIENTS threads in pairs: both clients of a pair work the same
parcels and units from different stations, and send every unit scan twice with the same scan
token (a scanner firing twice, and the same physical scan at two stations). They receive,
inspect and decide every unit through the pages' own forms (CSRF token read from the page),
while the chaos thread kills -9 a gunicorn worker (gunicorn starts another). Afterwards it
checks the database: one unit per expected unit, every acknowledged scan present, one
completed inspection and one active disposition per unit, and `check_integrity` exits 0.
Prints a summary and exits 1 on any loss or duplicate. Bounded: under two minutes.

    .venv/bin/python scripts/chaos.py [--clients 8] [--rmas 20] [--kills 1]
"""

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
UNITS = 3
PASSWORD = "returns-demo"  # seed_demo's password for its users
DEADLINE_SECONDS = 100
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
RECEIVED = re.compile(r"(?:Received|Already received as) (LPN-\d{8})")
CLOSE = re.compile(r'action="(/receiving/parcels/\d+/close/)"')
COMPLETE = re.compile(r'action="(/inspection/inspections/\d+/complete/)"')
RADIO = re.compile(r'type="radio" name="(c-\d+)" value="([^"]*)"')
TEXT = re.compile(r'type="text" name="(c-\d+)"')
DECIDE_INSPECTION = re.compile(r'name="inspection" value="(\d+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(clients: int, rmas: int) -> tuple[list[int], dict[str, str]]:
    """Migrate, load the demo and the scenario; (station ids, RMA number -> SKU)."""
    import django
    from django.core.management import call_command
    from django.utils import timezone

    django.setup()
    from inspection.models import GradingCriterion
    from returns_desk.models import (
        Product,
        Program,
        ReasonCode,
        ReturnAuthorization,
        ReturnPolicy,
        RMALine,
        Site,
        Station,
    )

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    site = Site.objects.get(code="lon")
    stations = [
        Station.objects.create(site=site, code=f"CHAOS-{n:02d}", kind=Station.Kind.BOTH).pk
        for n in range(clients)
    ]
    checked = GradingCriterion.objects.filter(active=True).values("category")
    product = Product.objects.filter(serialised=False, category__in=checked).order_by("sku")[0]
    program = Program.objects.get(code="customer-return")
    policy = ReturnPolicy.objects.order_by("pk")[0]
    reason = ReasonCode.objects.order_by("pk")[0]
    scenario = {}
    for n in range(rmas):
        rma = ReturnAuthorization.objects.create(
            number=f"RMA-CHAOS-{n:03d}",
            program=program,
            policy=policy,
            order_reference=f"CHAOS-{n:03d}",
            customer_name="Chaos Test",
            customer_email="chaos@example.com",
            issued_on=timezone.localdate(),
        )
        RMALine.objects.create(
            rma=rma, line_no=1, product=product, quantity_expected=UNITS, reason=reason
        )
        scenario[rma.number] = product.sku
    return stations, scenario


class Client(threading.Thread):
    """One clerk at one station; a pair of clients shares its RMAs and scan tokens."""

    def __init__(self, base: str, station: int, work: list[tuple[str, str, list[str]]], log):
        super().__init__(daemon=True)
        self.base, self.station, self.work, self.log = base, station, work, log
        self.http = requests.Session()
        self.csrf = ""
        self.acknowledged: set[str] = set()
        self.lpns: set[str] = set()

    def request(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        """One request; a worker killed mid-request counts as a failure the clerk retries."""
        for _ in range(5):
            try:
                response = self.http.request(
                    method,
                    self.base + path,
                    data=data,
                    headers={"X-CSRFToken": self.csrf, "Referer": self.base + path},
                    allow_redirects=False,
                    timeout=30,
                )
            except requests.ConnectionError:
                self.log("dropped")
                time.sleep(0.2)
                continue
            self.log(response.status_code)
            if match := CSRF.search(response.text):
                self.csrf = match[1]
            return response
        raise RuntimeError(f"{path}: no answer after 5 tries")

    def run(self) -> None:
        self.request("GET", "/accounts/login/")
        self.request("POST", "/accounts/login/", {"username": "supervisor", "password": PASSWORD})
        self.request("GET", "/station/")
        self.request("POST", "/station/", {"station": self.station})
        for number, sku, tokens in self.work:
            self.receive(number, sku, tokens)
        for lpn in sorted(self.lpns):
            self.inspect(lpn)
            self.decide(lpn)

    def receive(self, number: str, sku: str, tokens: list[str]) -> None:
        for _ in range(30):  # the partner may hold the parcel open at its station for a while
            opened = self.request("POST", "/receiving/scan/", {"code": number})
            if opened.ok:
                break
            time.sleep(0.1)
        else:
            return
        for token in tokens:
            for _ in range(2):  # the scanner fires twice
                answer = self.request("POST", "/receiving/scan/", {"code": sku, "token": token})
                if answer.ok:
                    self.acknowledged.add(token)
                    self.lpns.update(RECEIVED.findall(answer.text)[:1])
        if close := CLOSE.search(opened.text):
            self.request("POST", close[1])

    def inspect(self, lpn: str) -> None:
        page = self.request("POST", "/inspection/scan/", {"code": lpn})
        if not page.ok or not (complete := COMPLETE.search(page.text)):
            return  # inspected already, or being inspected at the partner's station
        answers = dict(reversed(RADIO.findall(page.text)))  # the first option of each question
        answers |= {name: "1" for name in TEXT.findall(page.text)}
        self.request("POST", complete[1], answers)

    def decide(self, lpn: str) -> None:
        page = self.request("GET", f"/disposition/units/{lpn}/")
        if inspection := DECIDE_INSPECTION.search(page.text):
            self.request("POST", f"/disposition/units/{lpn}/", {"inspection": inspection[1]})


def workers(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def verify(scenario: dict, acknowledged: set[str], env: dict) -> dict[str, int]:
    from disposition.models import Disposition
    from inspection.models import Inspection
    from returns_desk.models import ReturnItem

    items = ReturnItem.objects.filter(rma_line__rma__number__in=scenario)
    per_rma = Counter(items.values_list("rma_line__rma__number", flat=True))
    tokens = {str(token) for token in items.values_list("scan_token", flat=True)}
    completed = Counter(
        Inspection.objects.filter(
            item__in=items, superseded=False, finished_at__isnull=False
        ).values_list("item_id", flat=True)
    )
    active = Counter(
        Disposition.objects.filter(item__in=items, status__in=Disposition.ACTIVE).values_list(
            "item_id", flat=True
        )
    )
    integrity = subprocess.run(
        [sys.executable, "manage.py", "check_integrity"], cwd=ROOT, env=env, capture_output=True
    )
    units = items.count()
    return {
        "units expected": len(scenario) * UNITS,
        "units in database": units,
        "duplicate units": sum(max(0, n - UNITS) for n in per_rma.values()),
        "acknowledged scans": len(acknowledged),
        "acknowledged scans missing": len(acknowledged - tokens),
        "units inspected once": sum(1 for n in completed.values() if n == 1),
        "duplicate inspections": sum(n - 1 for n in completed.values()),
        "units decided once": sum(1 for n in active.values() if n == 1),
        "duplicate dispositions": sum(n - 1 for n in active.values()),
        "check_integrity exit code": integrity.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rmas", type=int, default=20)
    parser.add_argument("--kills", type=int, default=1)
    args = parser.parse_args()
    name = f"rd_chaos_{os.getpid()}_{secrets.token_hex(3)}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{name}",
        "DJANGO_SETTINGS_MODULE": "returns_desk.settings",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    server = None
    try:
        stations, scenario = seed(args.clients, args.rmas)
        port = free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "returns_desk.wsgi", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "3", "--no-control-socket", "--graceful-timeout", "5"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/accounts/login/", timeout=10)
                break
            except requests.RequestException:  # workers still importing Django
                time.sleep(0.2)
        statuses: Counter = Counter()
        lock = threading.Lock()

        def log(status) -> None:
            with lock:
                statuses[status if status == "dropped" else f"{status // 100}xx"] += 1

        pairs = args.clients // 2
        numbers = sorted(scenario)
        tokens = {number: [str(uuid.uuid4()) for _ in range(UNITS)] for number in numbers}
        clients = [
            Client(
                base,
                station,
                [(n, scenario[n], tokens[n]) for n in numbers[index % pairs :: pairs]],
                log,
            )
            for index, station in enumerate(stations)
        ]
        started = time.monotonic()
        for client in clients:
            client.start()
        killed = 0
        while any(client.is_alive() for client in clients):
            elapsed = time.monotonic() - started
            # The faults fall in the first seconds, while every kind of request is in flight.
            if killed < args.kills and elapsed > 2 + 3 * killed and (pids := workers(server.pid)):
                os.kill(pids[0], signal.SIGKILL)
                killed += 1
            if elapsed > DEADLINE_SECONDS:
                print("FAIL: the clients did not finish in time", file=sys.stderr)
                return 1
            time.sleep(0.2)
        duration = time.monotonic() - started
        acknowledged = set().union(*(client.acknowledged for client in clients))
        figures = verify(scenario, acknowledged, env)
        load = {
            "clients": args.clients,
            "gunicorn workers": 3,
            "duration (s)": round(duration, 1),
            "requests": sum(statuses.values()),
            **{key: statuses[key] for key in ("2xx", "3xx", "4xx", "5xx", "dropped")},
            "workers killed (-9)": killed,
        }
        width = max(map(len, [*load, *figures]))
        for key, value in {**load, **figures}.items():
            print(f"{key:<{width}}  {value}")
        lost_or_doubled = (
            figures["units in database"] != figures["units expected"]
            or figures["duplicate units"]
            or figures["acknowledged scans missing"]
            or figures["duplicate inspections"]
            or figures["duplicate dispositions"]
            or figures["units decided once"] != figures["units expected"]
            or figures["check_integrity exit code"]
            or statuses["5xx"]
        )
        return 1 if lost_or_doubled else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    sys.exit(main())

"""Codat conformance: Codat's own Python SDK (codat-bankfeeds, pinned in requirements.txt)
against the hub's Codat door (issue 5), as a pytest suite.

    pytest conformance/codat --hub-bin path/to/bankfeeds     (or BANKFEEDS_BIN=path/to/bankfeeds)

The session starts its own hub (`bankfeeds serve`) on a free loopback port with a SQLite
database in a temporary directory (no BANKFEEDS_* setting from the caller's shell reaches it),
creates an organisation through the CLI, and drives the real SDK with `server_url=<hub>/codat`.
Whatever happens, the hub is stopped and the directory removed; when a test failed, the hub's
log tail is shown at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import CALLED, OPERATIONS, SANDBOX_PASSWORD, Codat, check

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOG_TAIL_LINES = 40


def pytest_configure(config):
    # `timeout` (as .ci/run bounds the step) sends SIGTERM: end the run as an interrupt would, so
    # the session's fixtures still stop the hub and remove its directory.
    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)


def pytest_addoption(parser):
    parser.addoption("--hub-bin", default=None,
                     help="the bankfeeds binary to test (default: $BANKFEEDS_BIN, else "
                          "${CARGO_TARGET_DIR:-<repo>/target}/release/bankfeeds)")


def hub_binary(config):
    chosen = config.getoption("--hub-bin") or os.environ.get("BANKFEEDS_BIN")
    if not chosen:
        chosen = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target") / "release" / "bankfeeds"
    return str(Path(chosen).resolve())


def sdk_version():
    try:
        from importlib.metadata import version
        return version("codat-bankfeeds")
    except Exception:  # noqa: BLE001
        return "?"


def pytest_report_header(config):
    return f"hub: {hub_binary(config)}; SDK codat-bankfeeds {sdk_version()}"


# ---------------------------------------------------------------- the hub

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env():
    # Only the flags configure the hub: no stray BANKFEEDS_* setting from the caller's shell.
    return {k: v for k, v in os.environ.items() if not k.startswith("BANKFEEDS_")}


def wait_healthy(base, proc):
    until = time.monotonic() + 20
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"the hub exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no answer from {base}/healthz within 20 s")


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def log_tail(path):
    if not path.exists():
        return ""
    return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-LOG_TAIL_LINES:])


class Hub:
    """A running `bankfeeds serve` with its own SQLite database."""

    def __init__(self, bin, base, db_url, log_path):
        self.bin, self.base, self.db_url, self.log_path = bin, base, db_url, log_path

    def create_org(self, name):
        """An organisation through the CLI (`bankfeeds org create`), as an FI sets one up."""
        out = subprocess.run(
            [self.bin, "org", "create", "--name", name, "--database-url", self.db_url],
            env=hub_env(), capture_output=True, text=True, timeout=30,
        )
        check(out.returncode == 0, f"org create: {out.returncode} {out.stderr}")
        org = json.loads(out.stdout.strip().splitlines()[-1])
        check(org.get("client_id") and org.get("client_secret"), f"org create printed no credential: {out.stdout}")
        return org

    def codat(self, org_name):
        """A new organisation's view of the hub (its own companies, nothing of anyone else's)."""
        return Codat(self.base, self.create_org(org_name))


HUB_LOG_KEY = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def hub(request):
    bin = hub_binary(request.config)
    work = Path(tempfile.mkdtemp(prefix="codat-conformance-"))
    log_path = work / "hub.log"
    db_url = f"sqlite://{work / 'codat.db'}"
    proc = None
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [bin, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", db_url, "--public-url", base],
                # The sandboxes (the platform side of the links) are off unless turned on.
                env={**hub_env(), "BANKFEEDS_SANDBOX_ENABLED": "true",
                     "BANKFEEDS_SANDBOX_PASSWORD": SANDBOX_PASSWORD},
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        try:
            wait_healthy(base, proc)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n--- hub log (tail)\n{log_tail(log_path)}") from None
        yield Hub(bin, base, db_url, log_path)
    finally:
        stop(proc)
        if request.session.testsfailed:
            request.config.stash[HUB_LOG_KEY] = log_tail(log_path)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def codat(hub):
    """The session's organisation, created as an FI does (the CLI), and its SDK client."""
    return hub.codat("Codat SDK Bank")


@pytest.fixture
def fresh_codat(hub):
    """A new organisation of its own, for tests that count everything an organisation has."""
    return hub.codat("Codat SDK Bank (isolated)")


@pytest.fixture
def three_companies(fresh_codat):
    """In an organisation of its own: Bank of Dave (uk, with a description), Elaborate Events, Inc
    (us) and Acme Ltd (uk)."""
    dave = fresh_codat.create_three_companies()
    return SimpleNamespace(codat=fresh_codat, dave=dave.id)


@pytest.fixture
def dave_with_connections(three_companies):
    """three_companies, and Bank of Dave with one PendingAuth connection per platform key."""
    t = three_companies
    t.conns = t.codat.create_connections(t.dave)
    return t


@pytest.fixture
def xero_unlinked(codat):
    """Mapping Co: an unlinked Xero connection with two pending GBP accounts, cur-1 and sav-1."""
    return codat.unlinked_xero_company()


@pytest.fixture
def xero_linked(codat, xero_unlinked):
    """xero_unlinked, linked through the connection's OTP with cur-1 only."""
    codat.link_in_xero_by_otp(xero_unlinked)
    return xero_unlinked


# ---------------------------------------------------------------- the summary

def pytest_terminal_summary(terminalreporter):
    all_ops = [f"{g}.{m}" for g, ms in OPERATIONS.items() for m in ms]
    if CALLED:
        covered = [op for op in all_ops if op in CALLED]
        missing = [op for op in all_ops if op not in CALLED]
        lines = [f"{len(covered)}/{len(all_ops)} of issue 5's SDK operations covered"]
        if missing:
            lines.append("not yet covered (not a failure):")
            lines += [f"   - {op}" for op in missing]
        terminalreporter.write_sep("-", "Codat SDK operations")
        for line in lines:
            terminalreporter.write_line(line)
    tail = terminalreporter.config.stash.get(HUB_LOG_KEY, None)
    if tail:
        terminalreporter.write_sep("-", "hub log (tail)")
        terminalreporter.write(tail)

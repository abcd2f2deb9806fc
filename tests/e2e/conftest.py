"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

import os
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    profile = tempfile.mkdtemp(prefix="returns-desk-chromium-")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
        "env": {**os.environ, "XDG_CONFIG_HOME": profile, "XDG_CACHE_HOME": profile},
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


def wait_for_htmx(page) -> None:
    """Wait until htmx has no request in flight and the swap has settled."""
    page.wait_for_function(
        "() => window.htmx"
        " && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


# desk.js's tones, as (frequency, wave) of each oscillator started: how a clerk hears a message.
_SOUNDS = {
    ((880, "sine"),): "done",
    ((660, "sine"), (660, "sine")): "check or next",
    ((220, "square"), (180, "square")): "error",
}


def listen(page) -> None:
    """From the next page load on, keep each tone the page plays for `heard`."""
    page.add_init_script(
        """
        window.tones = [];
        const create = AudioContext.prototype.createOscillator;
        AudioContext.prototype.createOscillator = function () {
          const osc = create.call(this);
          const start = osc.start.bind(osc);
          osc.start = (when) => {
            window.tones.push([osc.frequency.value, osc.type]);
            start(when);
          };
          return osc;
        };
        """
    )


def heard(page) -> list[str]:
    """The sounds played since the page loaded or since the last call, named as the guide does."""
    tones = [tuple(tone) for tone in page.evaluate("window.tones.splice(0)")]
    sounds = []
    while tones:
        for pattern, name in _SOUNDS.items():
            if tuple(tones[: len(pattern)]) == pattern:
                sounds.append(name)
                del tones[: len(pattern)]
                break
        else:
            raise AssertionError(f"tones no message makes: {tones}")
    return sounds


def lines_of_text(locator) -> int:
    """On how many lines the browser laid out the element's text."""
    return locator.evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
        }"""
    )


def log_in(page, live_server, username: str, password: str = "correct horse battery") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def choose_station(page, station_label: str) -> None:
    """On the station page (shown after login), pick the station by its visible label."""
    page.get_by_label(station_label).check()
    page.get_by_role("button", name="Work here").click()


@pytest.fixture(autouse=True)
def _browser_tests_see_migration_data(migration_data_restored):
    """Browser tests use the live server, so they are transactional: see tests/conftest.py."""

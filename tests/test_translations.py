"""The screens are ready for translation, and dates and numbers follow the reader's language.

A pseudo-language catalogue is built at test time from the project's own strings (makemessages,
every msgstr rewritten in look-alike letters, compilemessages), so a string left out of gettext
shows up as plain English on a screen rendered in that language.
"""

import contextlib
import gettext
import os
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import models
from django.test import override_settings

from disposition.models import Partner
from returns_desk.models import ReturnItem
from tests.conftest import client_at_station
from tests.disposition.helpers import configure, inspected_unit, make_checklist, make_rules
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    StationFactory,
    UserFactory,
    make_rma,
    make_unit_at,
)

pytestmark = pytest.mark.django_db

# What `make messages` leaves out too: no screen shows these files' strings.
SOURCE_IGNORED = ["tests/*", "bench/*", "docs/*", "media/*", "var/*", "staticfiles/*", "scripts/*"]
PSEUDO = "qps"  # a private-use language code: no catalogue of Django's own answers to it
PLAIN = "abcdefghijklmnopqrstuvwxyz"
LOOKALIKE = "ȧƀċḋėḟġḣïĵķŀṁṅȯṗɋṙṡṫůṿẇẋẏż"
PSEUDO_LETTERS = str.maketrans(PLAIN + PLAIN.upper(), LOOKALIKE + LOOKALIKE.upper())
# Placeholders, markup and entities pass through untouched: only the words change.
UNTOUCHED = re.compile(r"(%\(\w+\)\d*[sdif]|%\w|<[^>]*>|&\w+;|\{\w*\})")


def pseudo(text: str) -> str:
    return "".join(
        part if UNTOUCHED.fullmatch(part) else part.translate(PSEUDO_LETTERS)
        for part in UNTOUCHED.split(text)
    )


def _po_string(lines: list[str]) -> str:
    return "".join(re.fullmatch(r'(?:\S+ )?"(.*)"', line)[1] for line in lines)


def _po_quote(text: str) -> str:
    return '"' + text + '"'


def pseudo_catalogue(po: str) -> str:
    """Every msgstr made from its msgid in look-alike letters; the header made compilable."""
    out = []
    for block in po.split("\n\n"):
        lines = block.splitlines()
        keys: dict[str, list[str]] = {}
        current = None
        for line in lines:
            if line.startswith(("msgctxt", "msgid", "msgstr")):
                current = line.split(" ", 1)[0]
                keys[current] = [line]
            elif line.startswith('"') and current:
                keys[current].append(line)
        msgid = _po_string(keys.get("msgid", ['""']))
        if not msgid:  # the header
            block = block.replace("CHARSET", "UTF-8").replace(
                "nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);"
            )
            out.append(block.replace("#, fuzzy\n", ""))
            continue
        kept = [line for line in lines if not line.startswith(("msgstr", '"'))]
        kept = [line for line in kept if not line.startswith(("msgctxt", "msgid"))]
        if "msgctxt" in keys:
            kept.append("msgctxt " + _po_quote(_po_string(keys["msgctxt"])))
        kept.append("msgid " + _po_quote(msgid))
        if "msgid_plural" in keys:
            plural = _po_string(keys["msgid_plural"])
            kept.append("msgid_plural " + _po_quote(plural))
            kept.append("msgstr[0] " + _po_quote(pseudo(msgid)))
            kept.append("msgstr[1] " + _po_quote(pseudo(plural)))
        else:
            kept.append("msgstr " + _po_quote(pseudo(msgid)))
        out.append("\n".join(kept))
    return "\n\n".join(out) + "\n"


def require_gettext() -> None:
    if not shutil.which("msgfmt"):
        missing = "GNU gettext is missing: apt-get install gettext (scripts/test.sh does)"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def pseudo_locale(tmp_path_factory) -> Path:
    """A LOCALE_PATHS directory holding the compiled pseudo-language catalogue."""
    require_gettext()
    # makemessages writes into a locale/ directory it finds in the current one, the project's
    # own catalogues: it reads the project through links from a directory without one.
    source = tmp_path_factory.mktemp("source")
    for entry in Path(django_settings.BASE_DIR).iterdir():
        if entry.name != "locale":
            (source / entry.name).symlink_to(entry)
    locale = tmp_path_factory.mktemp("locale")
    with override_settings(LOCALE_PATHS=[locale]), contextlib.chdir(source):
        call_command(
            "makemessages",
            locale=[PSEUDO],
            symlinks=True,
            ignore_patterns=SOURCE_IGNORED,
            verbosity=0,
        )
        po = locale / PSEUDO / "LC_MESSAGES" / "django.po"
        po.write_text(pseudo_catalogue(po.read_text()))
        call_command("compilemessages", locale=[PSEUDO], verbosity=0)
    return locale


@pytest.fixture
def in_pseudo_language(settings, pseudo_locale):
    settings.LOCALE_PATHS = [pseudo_locale]
    settings.LANGUAGES = [*django_settings.LANGUAGES, (PSEUDO, "Pseudo")]
    return {"HTTP_ACCEPT_LANGUAGE": PSEUDO}


# Rows that hold what the system wrote (history, outbox), not what people named.
NOT_DATA = {"itemevent", "outboxevent", "webhookdelivery", "idempotentrequest", "counter"}


def database_words() -> list[str]:
    """Text people stored: names, codes, questions and options an admin typed, usernames."""
    words = set()
    ours = [apps.get_model("auth", "User")] + [
        model
        for label in ("returns_desk", "inspection", "disposition")
        for model in apps.get_app_config(label).get_models()
        if model._meta.model_name not in NOT_DATA
    ]
    for model in ours:
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        for row in model.objects.values_list(*fields) if fields else []:
            for value in row:
                words.update(re.findall(r"[^\W\d_][\w' ]*\w|[^\W\d_]", str(value)))
    return sorted((word for word in words if len(word) > 1), key=len, reverse=True)


# What Django itself writes for dates, from its own catalogue (none for the pseudo-language).
DATE_WORDS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w*\b"
)
CODE = re.compile(r"\b[A-Z0-9]+(?:[-_.·/][A-Z0-9]+)*\b")  # SKU, LPN-00000001, RCV-01, CSV
SHOWN_ATTRIBUTES = {"aria-label", "placeholder", "alt", "title"}


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.hidden_depth += 1
        self.texts += [value for name, value in attrs if name in SHOWN_ATTRIBUTES and value]
        if tag == "input" and dict(attrs).get("type") in {"submit", "button"}:
            self.texts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth and data.strip():
            self.texts.append(data.strip())


def untranslated(html: str, data: list[str]) -> list[str]:
    """The visible texts that still hold an English word that is not data."""
    parser = _VisibleText()
    parser.feed(html)
    left = []
    for text in parser.texts:
        rest = text
        for word in data:
            rest = rest.replace(word, " ")
        rest = CODE.sub(" ", DATE_WORDS.sub(" ", rest))
        if re.search(r"[A-Za-z]{2,}", rest):
            left.append(text)
    return left


@pytest.fixture
def floor(db):
    """A station with a parcel to open, a unit to inspect, one to decide and one decided."""
    station = StationFactory(code="MIX-01", kind="both")
    sam = UserFactory(username="sam", role="supervisor")
    checklist = make_checklist(CategoryFactory(code="electronics", name="Electronics"))
    make_rules(Partner.objects.create(code="green", name="GreenCycle", kind="recycler"))
    configure()
    rma = make_rma((ProductFactory(sku="AP-JKT-M", name="Rain jacket M"), 2), number="RMA-200001")
    # Received at another station, so this one has no parcel open.
    elsewhere = StationFactory(code="RCV-09")
    to_inspect = make_unit_at(
        ReturnItem.Status.RECEIVED,
        station=elsewhere,
        user=sam,
        product=ProductFactory(category=checklist["condition"].category),
    )
    to_decide = inspected_unit("A", checklist=checklist, station=elsewhere, user=sam)
    return {"station": station, "sam": sam, "rma": rma, "lpn": to_inspect.lpn, "ready": to_decide}


def test_every_main_screen_is_translated_except_its_data(client, floor, in_pseudo_language):
    lang = in_pseudo_language
    screens = {"login": client.get("/accounts/login/", **lang)}
    client_at_station(client, floor["sam"], floor["station"])
    screens["receiving desk with an RMA"] = client.post(
        "/receiving/scan/", {"code": floor["rma"].number, "packaging": "intact"}, **lang
    )
    screens["inspection checklist"] = client.post(
        "/inspection/scan/", {"code": floor["lpn"]}, **lang
    )
    ready = floor["ready"].lpn
    screens["disposition decide"] = client.get(f"/disposition/units/{ready}/", **lang)
    screens["supervisor queue"] = client.get("/supervisor/queues/awaiting_inspection/", **lang)
    screens["dashboard"] = client.get("/supervisor/", **lang)
    screens["unit page"] = client.get(f"/supervisor/units/{ready}/", **lang)

    data = database_words()
    failures = []
    for name, response in screens.items():
        assert response.status_code == 200, name
        assert f'<html lang="{PSEUDO}">' in response.text, name
        failures += [f"{name}: {text!r}" for text in untranslated(response.text, data)]
    assert failures == [], "\n".join(failures)


def test_the_catalogue_of_the_pseudo_language_is_used_and_nothing_else_is_lost(
    client, floor, in_pseudo_language
):
    client_at_station(client, floor["sam"], floor["station"])

    response = client.get("/receiving/", **in_pseudo_language)

    assert pseudo("Scan a parcel (RMA, tracking or order number)") in response.text
    assert "Scan a parcel" not in response.text


@pytest.mark.parametrize(
    ("language", "amount", "date"),
    [("de", "1.234,50", "3. November 2026 10:15"), ("nl", "1.234,50", "3 november 2026 10:15")],
)
def test_amounts_and_dates_follow_the_readers_language(client, floor, language, amount, date):
    unit = floor["ready"]
    unit.product.unit_value = Decimal("1234.50")
    unit.product.save()
    ReturnItem.objects.filter(pk=unit.pk).update(
        received_at="2026-11-03T10:15:00Z", status_changed_at="2026-11-03T10:15:00Z"
    )
    client_at_station(client, floor["sam"], floor["station"])

    english = client.get(f"/supervisor/units/{unit.lpn}/").text
    local = client.get(f"/supervisor/units/{unit.lpn}/", HTTP_ACCEPT_LANGUAGE=language).text

    assert "1,234.50" in english and "3 Nov 2026 10:15" in english
    assert amount in local
    assert date in local


# The languages offered besides English, each with its catalogue in locale/.
SHIPPED = [code for code, _ in django_settings.LANGUAGES if code != django_settings.LANGUAGE_CODE]
LOCALE = Path(django_settings.BASE_DIR) / "locale"


def translations(mo: Path) -> dict:
    """msgid (with its context, or with its plural form's index) -> msgstr, as gettext reads it."""
    with mo.open("rb") as file:
        return {key: text for key, text in gettext.GNUTranslations(file)._catalog.items() if key}


def test_german_and_dutch_are_offered_with_their_catalogues():
    assert SHIPPED == ["de", "nl"]
    for language in SHIPPED:
        assert (LOCALE / language / "LC_MESSAGES" / "django.mo").is_file(), language


@pytest.mark.parametrize("language", SHIPPED)
def test_every_string_of_the_screens_is_translated(language, pseudo_locale):
    source = translations(pseudo_locale / PSEUDO / "LC_MESSAGES" / "django.mo")
    shipped = translations(LOCALE / language / "LC_MESSAGES" / "django.mo")

    missing = sorted(map(str, source.keys() - {key for key, text in shipped.items() if text}))

    assert missing == [], (
        f"{len(missing)} strings have no translation in locale/{language}: run `make messages`, "
        f"translate them in its django.po, then `make compilemessages`. The first: {missing[:15]}"
    )


@pytest.mark.parametrize("language", SHIPPED)
def test_the_committed_catalogue_is_its_po_compiled(language, tmp_path):
    require_gettext()
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    # --check-format: a translation must keep every placeholder of its English.
    subprocess.run(["msgfmt", "--check-format", "-o", tmp_path / "django.mo", po], check=True)

    assert translations(LOCALE / language / "LC_MESSAGES" / "django.mo") == translations(
        tmp_path / "django.mo"
    ), f"locale/{language}: django.po changed since it was compiled: `make compilemessages`"


@pytest.mark.parametrize(
    ("language", "scan_field", "nav"),
    [
        ("de", "Paket scannen (RMA-, Sendungs- oder Bestellnummer)", "Wareneingang"),
        ("nl", "Scan een pakket (RMA-, tracking- of ordernummer)", "Ontvangst"),
    ],
)
def test_a_german_or_dutch_browser_gets_the_desk_in_its_language(
    client, floor, language, scan_field, nav
):
    client_at_station(client, floor["sam"], floor["station"])

    page = client.get("/receiving/", HTTP_ACCEPT_LANGUAGE=language).text

    assert f'<html lang="{language}">' in page
    assert scan_field in page and nav in page
    assert "Scan a parcel" not in page


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (None, "is received, awaiting inspection: there is no disposition"),
        ("nl", "heeft status ontvangen, wacht op inspectie"),
        # German writes its nouns with a capital, inside a sentence too.
        ("de", "hat den Status „Eingegangen, wartet auf Prüfung“"),
    ],
)
def test_a_status_inside_a_sentence_is_written_as_its_language_writes_it(
    client, floor, language, said
):
    client_at_station(client, floor["sam"], floor["station"])
    reader = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}

    page = client.get(f"/disposition/units/{floor['lpn']}/", **reader).text

    assert f"{floor['lpn']} {said}" in page


def test_every_message_a_refusal_carries_goes_through_gettext():
    """A refusal's message is shown to the clerk as it was raised: one written as a plain
    string or an f-string stays English in every language, and no catalogue can list it."""
    import ast
    import importlib

    from returns_desk.exceptions import DomainError

    untranslated = []
    for app in ("returns_desk", "inspection", "disposition"):
        for path in sorted((Path(django_settings.BASE_DIR) / app).glob("*.py")):
            module = importlib.import_module(f"{app}.{path.stem}")
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                raised = getattr(module, ast.unparse(node.exc.func), None)
                if not (isinstance(raised, type) and issubclass(raised, DomainError)):
                    continue
                message = node.exc.args[0] if node.exc.args else None
                if isinstance(message, ast.Constant | ast.JoinedStr):
                    untranslated.append(f"{app}/{path.name}:{node.lineno}")
    assert untranslated == []

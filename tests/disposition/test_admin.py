import pytest

from disposition.models import Disposition, DispositionRule
from tests.disposition.helpers import make_rule
from tests.factories import GradeScaleFactory

pytestmark = pytest.mark.django_db
RULES = "/admin/disposition/dispositionrule/"


@pytest.fixture(autouse=True)
def _grade_scale(db):
    """The default scale's grades (A, B, C, D, X): a rule may only name grades a scale has."""
    GradeScaleFactory()


def rule_form(**fields) -> dict:
    return {
        "order": 50,
        "name": "Grade B to open box",
        "active": "on",
        "grades": "B",
        "critical_failure": "any",
        "in_warranty": "any",
        "recall": "any",
        "outcome": "restock",
        "destination_bin": "OPENBOX",
        "refund": "minus_fee",
        **fields,
    }


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


def test_admin_saves_a_rule_before_the_catch_all(admin_client, rules):
    response = admin_client.post(f"{RULES}add/", rule_form())

    assert response.status_code == 302
    assert DispositionRule.objects.filter(name="Grade B to open box").exists()


def test_admin_refuses_a_rule_that_would_come_after_the_catch_all(admin_client, rules):
    response = admin_client.post(f"{RULES}add/", rule_form(order=1000))

    assert response.status_code == 200
    assert "must end in a catch-all" in response.content.decode()
    assert not DispositionRule.objects.filter(name="Grade B to open box").exists()


def test_admin_refuses_to_give_the_catch_all_a_condition(admin_client, rules):
    catch_all = rules["catch_all"]

    response = admin_client.post(
        f"{RULES}{catch_all.pk}/change/",
        rule_form(order=999, name=catch_all.name, outcome="liquidate", destination_bin="LIQ-1"),
    )

    catch_all.refresh_from_db()
    assert "must end in a catch-all" in response.content.decode()
    assert catch_all.grades == ""


def test_admin_refuses_to_deactivate_or_delete_the_only_catch_all(admin_client, rules):
    catch_all = rules["catch_all"]

    deactivated = admin_client.post(
        f"{RULES}{catch_all.pk}/change/",
        rule_form(order=999, name=catch_all.name, grades="", active=""),
    )
    deleted = admin_client.post(f"{RULES}{catch_all.pk}/delete/", {"post": "yes"}, follow=True)

    assert "must end in a catch-all" in deactivated.content.decode()
    assert "Not deleted" in deleted.content.decode()
    assert DispositionRule.objects.filter(pk=catch_all.pk, active=True).exists()


def test_admin_deletes_a_rule_when_a_catch_all_remains(admin_client, rules):
    response = admin_client.post(f"{RULES}{rules['repair'].pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not DispositionRule.objects.filter(pk=rules["repair"].pk).exists()


def test_try_the_rules_shows_which_rule_fires_and_why_each_condition_held(admin_client, rules):
    response = admin_client.get(f"{RULES}try/", {"grade": "c", "unit_value": "80"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rule “Rule 20” fires: Repair" in html
    assert "✖ failed: grade C is not one of A" in html
    assert "✔ matched: grade C is one of C" in html
    assert "Rule 30" not in html  # never tried: the first match wins


def test_try_the_rules_can_include_a_draft_rule(admin_client, rules):
    make_rule(15, "donate", name="Draft: donate C", grades="C", active=False)

    active_only = admin_client.get(f"{RULES}try/", {"grade": "C", "unit_value": "5"})
    with_drafts = admin_client.get(
        f"{RULES}try/", {"grade": "C", "unit_value": "5", "include_inactive": "on"}
    )

    assert "“Rule 20” fires" in active_only.content.decode()
    assert "“Draft: donate C” fires" in with_drafts.content.decode()


def test_a_clerk_cannot_open_the_rules_admin(client, clerk, rules):
    client.force_login(clerk)

    response = client.get(f"{RULES}try/")

    assert response.status_code in {302, 403}


def test_dispositions_are_read_only_in_the_admin(
    admin_client, make_inspected, station, clerk, rules, config
):
    from disposition import services

    disposition, _ = services.decide_disposition(
        item=make_inspected("A"), station=station, user=clerk
    )

    page = admin_client.get(f"/admin/disposition/disposition/{disposition.pk}/change/")
    admin_client.post(
        f"/admin/disposition/disposition/{disposition.pk}/change/", {"chosen_outcome": "donate"}
    )

    assert page.status_code == 200
    assert Disposition.objects.get().chosen_outcome == "restock"
    assert admin_client.get("/admin/disposition/disposition/add/").status_code == 403


def test_a_supervisor_approves_overrides_with_an_admin_action(
    client, make_inspected, station, clerk, rules, config
):
    from django.contrib.auth.models import Permission

    from disposition import services
    from tests.factories import UserFactory

    # Supervisors reach the admin only if an admin makes them staff and lets them view decisions.
    boss = UserFactory(username="boss", role="supervisor")
    boss.is_staff = True
    boss.save()
    boss.user_permissions.add(Permission.objects.get(codename="view_disposition"))
    item = make_inspected("A", value="500.00")
    disposition, _ = services.decide_disposition(
        item=item,
        station=station,
        user=clerk,
        outcome="liquidate",
        override_reason="other",
        override_note="dented",
    )
    client.force_login(boss)

    client.post(
        "/admin/disposition/disposition/",
        {"action": "approve_overrides", "_selected_action": [disposition.pk]},
    )

    disposition.refresh_from_db()
    assert disposition.approval == Disposition.Approval.APPROVED


@pytest.mark.parametrize(
    ("condition", "url"),
    [
        ("reasons", "/admin/returns_desk/reasoncode/{pk}/delete/"),
        ("programs", "/admin/returns_desk/program/{pk}/delete/"),
        ("categories", "/admin/returns_desk/productcategory/{pk}/delete/"),
    ],
)
def test_admin_refuses_to_delete_what_a_rule_names_which_would_widen_it_to_any(
    admin_client, rules, condition, url
):
    from returns_desk.models import ProductCategory, Program, ReasonCode

    model = {"reasons": ReasonCode, "programs": Program, "categories": ProductCategory}[condition]
    named = model.objects.create(code="pilot-trial", name="Pilot trial")
    pilot = make_rule(5, "donate", name="Pilot: donate", refund="none", **{condition: [named]})

    page = admin_client.get(url.format(pk=named.pk))
    response = admin_client.post(url.format(pk=named.pk), {"post": "yes"})

    assert "Disposition rule 5 “Pilot: donate” (it would then match any)" in page.content.decode()
    assert response.status_code == 200  # the refusal shown again, nothing deleted
    assert model.objects.filter(pk=named.pk).exists()
    assert list(getattr(pilot, condition).all()) == [named]


def test_admin_bulk_delete_refuses_what_a_rule_names(admin_client, rules):
    from returns_desk.models import ReasonCode

    named = ReasonCode.objects.create(code="pilot-trial", name="Pilot trial")
    unused = ReasonCode.objects.create(code="unused", name="Unused")
    make_rule(5, "donate", name="Pilot: donate", refund="none", reasons=[named])

    admin_client.post(
        "/admin/returns_desk/reasoncode/",
        {"action": "delete_selected", "_selected_action": [named.pk, unused.pk], "post": "yes"},
    )

    assert set(ReasonCode.objects.filter(code__in=["pilot-trial", "unused"])) == {named, unused}


def test_admin_refuses_a_rule_naming_a_grade_no_scale_has(admin_client, rules):
    form = admin_client.get("/admin/disposition/dispositionrule/add/")
    assert form.status_code == 200

    response = admin_client.post(
        "/admin/disposition/dispositionrule/add/",
        {
            "order": 15,
            "name": "Typo",
            "active": "on",
            "grades": "A;B",
            "outcome": "restock",
            "destination_bin": "RESTOCK-A",
            "refund": "full",
            "critical_failure": "any",
            "in_warranty": "any",
            "recall": "any",
        },
    )

    assert "No grade scale has the grade A;B." in response.content.decode()
    assert not DispositionRule.objects.filter(name="Typo").exists()

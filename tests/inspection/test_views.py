import io
import json
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.timezone import localtime
from PIL import Image

from inspection.models import Answer, Inspection, Photo
from inspection.next_step import NextStep, next_step
from inspection.selectors import best_answer, checklist_for
from returns_desk.models import ReturnItem
from tests.conftest import client_at_station
from tests.factories import (
    CategoryFactory,
    CriterionFactory,
    ProductFactory,
    StationFactory,
    UserFactory,
    make_unit_at,
)

pytestmark = pytest.mark.django_db
Status = ReturnItem.Status
DESK = reverse("inspection:desk")
SCAN = reverse("inspection:scan")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def unit(station, clerk, product, checklist):
    return make_unit_at(Status.RECEIVED, station=station, user=clerk, product=product)


@pytest.fixture
def inspecting(station, clerk, product, checklist):
    return make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)


def complete_url(item) -> str:
    return reverse("inspection:complete", args=[item.inspections.get(superseded=False).pk])


def preview_url(item) -> str:
    return reverse("inspection:preview", args=[item.inspections.get(superseded=False).pk])


def answers(checklist, *values) -> dict[str, str]:
    return {f"c-{c.pk}": v for c, v in zip(checklist, values, strict=True)}


def jpeg(size: int = 16, exif: bool = False) -> io.BytesIO:
    buffer = io.BytesIO()
    image = Image.new("RGB", (size, size), "red")
    extra = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # Make
        extra["exif"] = tags
    image.save(buffer, format="JPEG", **extra)
    buffer.seek(0)
    buffer.name = "unit.jpg"
    return buffer


def test_the_desk_needs_a_login(client):
    response = client.get(DESK)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_user_without_a_role_is_forbidden(client, station):
    client_at_station(client, UserFactory(username="nobody"), station)
    assert client.get(DESK).status_code == 403
    assert client.post(SCAN, {"code": "LPN-1"}).status_code == 403


@pytest.mark.parametrize("name", ["scan", "preview", "complete", "reopen"])
def test_transitions_refuse_get(clerk_client, supervisor, name):
    clerk_client.force_login(supervisor)
    args = {"scan": [], "reopen": ["LPN-00000001"]}.get(name, [1])
    assert clerk_client.get(reverse(f"inspection:{name}", args=args)).status_code == 405


def test_without_a_station_the_desk_asks_for_one(client, clerk):
    client.force_login(clerk)
    response = client.get(DESK)
    assert response.url == f"{reverse('station')}?next={DESK}"
    refused = client.post(SCAN, {"code": "LPN-1"})
    assert refused.status_code == 403
    assert "Choose a station first." in refused.text


def test_a_receiving_only_station_cannot_inspect(client, clerk):
    client_at_station(client, clerk, StationFactory(code="RCV-09", kind="receiving"))
    response = client.post(SCAN, {"code": "LPN-1"})
    assert response.status_code == 403
    assert "RCV-09 is not an inspection station." in response.text


def test_the_desk_page_offers_the_scan_field(clerk_client):
    response = clerk_client.get(DESK)
    assert response.status_code == 200
    assert "data-scan-field" in response.text and 'class="topbar"' in response.text


def test_scanning_an_lpn_shows_the_unit_and_its_checklist(clerk_client, unit, checklist):
    response = clerk_client.post(SCAN, {"code": unit.lpn}, **HTMX)
    assert response.status_code == 200
    assert 'class="topbar"' not in response.text
    assert 'id="inspect-desk"' in response.text
    for expected in [unit.lpn, "EL-PHONE-1", unit.rma_line.rma.number, "Changed mind", "Powers on"]:
        assert expected in response.text
    assert json.loads(response["HX-Trigger"]) == {"inspectionStarted": {"lpn": unit.lpn}}
    unit.refresh_from_db()
    assert unit.status == Status.INSPECTING


def test_the_full_page_answers_a_scan_without_javascript(clerk_client, unit):
    response = clerk_client.post(SCAN, {"code": unit.lpn})
    assert 'class="topbar"' in response.text and "Powers on" in response.text


def test_an_unknown_lpn_is_shown_in_the_scan_panel_only(clerk_client, checklist):
    response = clerk_client.post(SCAN, {"code": "LPN-404"}, **HTMX)
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#scan-panel"
    assert "No unit is labelled &#x27;LPN-404&#x27;" in response.text
    assert 'id="checklist"' not in response.text


def test_a_blank_or_binary_scan_is_refused(clerk_client):
    assert clerk_client.post(SCAN, {"code": ""}, **HTMX).status_code == 422
    assert clerk_client.post(SCAN, {"code": "\x00\x01"}, **HTMX).status_code == 422


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.HELD, "held for a supervisor"),
        (Status.DISPOSED, "already has a disposition"),
    ],
)
def test_units_that_cannot_be_inspected_get_a_message(
    clerk_client, station, clerk, product, checklist, status, message
):
    item = make_unit_at(status, station=station, user=clerk, product=product)
    response = clerk_client.post(SCAN, {"code": item.lpn}, **HTMX)
    assert response.status_code == 409
    assert message in response.text


def test_a_unit_open_at_another_station_gets_a_message(client, clerk, inspecting):
    client_at_station(client, clerk, StationFactory(code="INS-02", kind="inspection"))
    response = client.post(SCAN, {"code": inspecting.lpn}, **HTMX)
    assert response.status_code == 409
    assert "being inspected at RCV-01" in response.text


def test_a_supervisor_is_offered_to_reopen_a_disposed_unit(
    client, station, clerk, supervisor, product, checklist
):
    item = make_unit_at(Status.DISPOSED, station=station, user=clerk, product=product)
    client_at_station(client, supervisor, station)
    offered = client.post(SCAN, {"code": item.lpn}, **HTMX)
    assert reverse("inspection:reopen", args=[item.lpn]) in offered.text
    url = reverse("inspection:reopen", args=[item.lpn])
    assert client.post(url, {"reason": ""}, **HTMX).status_code == 422
    response = client.post(url, {"reason": "Customer disputes the grade"}, **HTMX)
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == Status.INSPECTED


def test_a_clerk_cannot_reopen_a_unit(clerk_client, station, clerk, product, checklist):
    item = make_unit_at(Status.DISPOSED, station=station, user=clerk, product=product)
    assert "Reopen" not in clerk_client.post(SCAN, {"code": item.lpn}, **HTMX).text
    url = reverse("inspection:reopen", args=[item.lpn])
    assert clerk_client.post(url, {"reason": "please"}).status_code == 403
    item.refresh_from_db()
    assert item.status == Status.DISPOSED


def test_the_preview_recomputes_the_grade_and_saves_nothing(clerk_client, inspecting, checklist):
    response = clerk_client.post(
        preview_url(inspecting), answers(checklist, "pass", "2", ""), **HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="score"')
    # 3 + 2/4 of 2 = 4 of 5 answered points
    assert "80.00" in response.text and 'data-grade="B"' in response.text
    assert "2 of 3 answered" in response.text
    assert not Answer.objects.exists()


def test_the_preview_shows_a_critical_cap(clerk_client, inspecting, checklist):
    response = clerk_client.post(
        preview_url(inspecting), answers(checklist, "fail", "4", "99"), **HTMX
    )
    assert 'data-grade="D"' in response.text and "Critical failure" in response.text


def test_the_preview_counts_answers_that_need_correcting(clerk_client, inspecting, checklist):
    response = clerk_client.post(
        preview_url(inspecting), answers(checklist, "pass", "9", "x"), **HTMX
    )
    assert "2 answers need correcting" in response.text


def test_submitting_saves_the_grade_and_returns_to_the_scan_field(
    clerk_client, inspecting, checklist
):
    response = clerk_client.post(
        complete_url(inspecting), answers(checklist, "pass", "2", "85"), **HTMX
    )
    assert response.status_code == 200
    assert "graded B (good), score 83.33" in response.text
    assert 'id="checklist"' not in response.text and "autofocus" in response.text
    assert json.loads(response["HX-Trigger"]) == {
        "unitGraded": {"lpn": inspecting.lpn, "grade": "B"}
    }
    inspecting.refresh_from_db()
    assert inspecting.status == Status.INSPECTED
    assert inspecting.inspections.get().answers.count() == 3


def test_the_saved_grade_offers_the_step_a_later_app_recommends(
    clerk_client, inspecting, checklist, monkeypatch
):
    def recommend_repair(inspection):
        return NextStep(
            summary=f"Repair {inspection.item.lpn}",
            confirm_label="Confirm repair",
            url="/repair/",
            fields={"inspection": str(inspection.pk)},
            detail="Refund withheld",
            warnings=("Second repair",),
        )

    monkeypatch.setattr("inspection.next_step._providers", [recommend_repair])
    response = clerk_client.post(
        complete_url(inspecting), answers(checklist, "pass", "2", "85"), **HTMX
    )

    result = response.text[response.text.index('id="result"') :]
    assert f"Repair {inspecting.lpn}" in result
    assert "Refund withheld" in result and "Second repair" in result
    assert '<form method="post" action="/repair/" class="confirm">' in result
    pk = inspecting.inspections.get().pk
    assert f'name="inspection" value="{pk}"' in result
    assert "Confirm repair" in result and "data-confirm" in result


def test_without_a_recommended_step_the_grade_links_to_the_units_disposition(
    clerk_client, inspecting, checklist, monkeypatch
):
    monkeypatch.setattr("inspection.next_step._providers", [lambda inspection: None])
    response = clerk_client.post(
        complete_url(inspecting), answers(checklist, "pass", "2", "85"), **HTMX
    )
    assert "graded B" in response.text
    assert "data-confirm" not in response.text
    assert "Decide disposition" in response.text


def test_a_double_submit_shows_the_saved_grade_and_changes_nothing(
    clerk_client, inspecting, checklist
):
    url, data = complete_url(inspecting), answers(checklist, "pass", "4", "85")
    clerk_client.post(url, data, **HTMX)
    again = clerk_client.post(url, answers(checklist, "fail", "0", "1"), **HTMX)
    assert again.status_code == 409
    assert "already graded A" in again.text
    assert inspecting.events.filter(action="inspected").count() == 1
    assert Inspection.objects.get().grade_code == "A"


def test_a_late_resend_of_an_inspection_graded_again_since_shows_the_grade_in_force(
    clerk_client, inspecting, checklist
):
    first_url = complete_url(inspecting)
    clerk_client.post(first_url, answers(checklist, "fail", "4", "85"), **HTMX)
    clerk_client.post(SCAN, {"code": inspecting.lpn}, **HTMX)  # inspected again
    clerk_client.post(complete_url(inspecting), answers(checklist, "pass", "4", "85"), **HTMX)

    resent = clerk_client.post(first_url, answers(checklist, "fail", "4", "85"), **HTMX)

    assert resent.status_code == 409
    assert "already superseded" in resent.text
    result = resent.text[resent.text.index('id="result"') :]
    assert f"{inspecting.lpn} graded A" in result
    assert "graded D" not in resent.text


def test_missing_answers_are_shown_beside_their_questions_and_kept(
    clerk_client, inspecting, checklist
):
    response = clerk_client.post(
        complete_url(inspecting), answers(checklist, "pass", "", ""), **HTMX
    )
    assert response.status_code == 422
    assert "2 required questions are still unanswered" in response.text
    assert response.text.count("data-invalid") == 2
    assert 'value="pass" data-answer-key="y" checked' in response.text
    inspecting.refresh_from_db()
    assert inspecting.status == Status.INSPECTING
    assert not Answer.objects.exists()


def test_out_of_range_answers_are_shown_in_place(clerk_client, inspecting, checklist):
    response = clerk_client.post(
        complete_url(inspecting), answers(checklist, "pass", "12", "85"), **HTMX
    )
    assert response.status_code == 422
    assert "Give a whole number from 0 to 4." in response.text
    assert not Answer.objects.exists()


def test_a_forged_answer_for_another_category_is_refused(clerk_client, inspecting, checklist):
    from tests.factories import CategoryFactory

    foreign = CriterionFactory(category=CategoryFactory(code="apparel", name="Apparel"))
    data = {**answers(checklist, "pass", "4", "85"), f"c-{foreign.pk}": "pass"}
    response = clerk_client.post(complete_url(inspecting), data, **HTMX)
    assert response.status_code == 400
    assert "not on this unit&#x27;s checklist" in response.text
    inspecting.refresh_from_db()
    assert inspecting.status == Status.INSPECTING


def test_another_station_cannot_complete_the_inspection(client, clerk, inspecting, checklist):
    client_at_station(client, clerk, StationFactory(code="INS-02", kind="inspection"))
    response = client.post(complete_url(inspecting), answers(checklist, "pass", "4", "85"))
    assert response.status_code == 409
    assert Inspection.objects.get().finished_at is None


def test_photos_are_stored_without_exif_and_served_to_signed_in_staff(
    clerk_client, client, inspecting, checklist
):
    data = {
        **answers(checklist, "pass", "4", "85"),
        "notes": "Box dented",
        "photos": [jpeg(exif=True)],
    }
    response = clerk_client.post(complete_url(inspecting), data, **HTMX)
    assert response.status_code == 200
    photo = Photo.objects.get()
    assert photo.inspection.notes == "Box dented"
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()
    url = reverse("inspection:photo", args=[photo.pk])
    assert url in response.text
    served = clerk_client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    client.logout()
    assert client.get(url).status_code == 302


def test_exif_is_kept_when_the_setting_says_so(settings, clerk_client, inspecting, checklist):
    settings.INSPECTION_KEEP_EXIF = True
    data = {**answers(checklist, "pass", "4", "85"), "photos": [jpeg(exif=True)]}
    clerk_client.post(complete_url(inspecting), data)
    with Image.open(Photo.objects.get().image.path) as stored:
        assert stored.getexif()[0x010F] == "SpyCam"


def test_a_file_that_is_not_an_image_is_refused(clerk_client, inspecting, checklist):
    fake = io.BytesIO(b"%PDF-1.4 not a photo")
    fake.name = "photo.jpg"
    data = {**answers(checklist, "pass", "4", "85"), "photos": [fake]}
    response = clerk_client.post(complete_url(inspecting), data, **HTMX)
    assert response.status_code == 422
    assert "not an image" in response.text or "Upload a valid image" in response.text
    assert not Photo.objects.exists()
    inspecting.refresh_from_db()
    assert inspecting.status == Status.INSPECTING


def test_an_oversized_photo_is_refused(settings, clerk_client, inspecting, checklist):
    settings.INSPECTION_PHOTO_MAX_BYTES = 2_000
    data = {**answers(checklist, "pass", "4", "85"), "photos": [jpeg(size=400)]}
    response = clerk_client.post(complete_url(inspecting), data, **HTMX)
    assert response.status_code == 422
    assert "the limit is 0.002 MB" in response.text
    assert not Photo.objects.exists() and not Answer.objects.exists()


def test_a_checklist_of_thirty_questions_renders_in_a_bounded_number_of_queries(
    clerk_client, station, clerk, product, checklist, django_assert_max_num_queries
):
    for n in range(27):
        CriterionFactory(
            category=product.category,
            kind=["pass_fail", "scale", "choice"][n % 3],
            scale_max=5,
            options=[{"label": "Yes", "points": 1}, {"label": "No", "points": 0}],
        )
    item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
    with django_assert_max_num_queries(14):
        response = clerk_client.get(DESK)
    assert response.text.count("data-criterion") == 30
    with django_assert_max_num_queries(14):
        clerk_client.post(preview_url(item), {}, **HTMX)


def test_submitting_thirty_answers_costs_as_few_queries_as_submitting_three(
    client, station, product, checklist, django_assert_num_queries
):
    def ready_to_submit(username: str, product) -> Callable:
        clerk = UserFactory(username=username, role="clerk")
        client_at_station(client, clerk, station)
        graded_before = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
        item = make_unit_at(Status.INSPECTING, station=station, user=clerk, product=product)
        data = {f"c-{c.pk}": best_answer(c) for c in checklist_for(item)}
        # Making users and RMAs changed the configuration: a desk reads it again once, as the
        # step recommended for the unit graded before did.
        next_step(graded_before.inspections.get())
        client.get(DESK)  # the checklist is on screen before it is submitted
        url = complete_url(item)
        return lambda: client.post(url, data, **HTMX)

    submit = ready_to_submit("ina", product)
    with CaptureQueriesContext(connection) as three:
        assert "graded A" in submit().text
    with_three = len(three)  # read now: the next request empties the query log
    bigger = CategoryFactory(code="big", name="Big")
    for n in range(30):
        CriterionFactory(category=bigger, kind=["pass_fail", "scale"][n % 2], scale_max=5)
    submit = ready_to_submit("ivo", ProductFactory(category=bigger))

    # Session, configuration token, the inspection; locks on unit and inspection, the answers
    # (read, then one INSERT, graded as written), grade and status, history and outbox; then
    # the desk's lists. The recommended step reads only configuration, cached.
    with django_assert_num_queries(with_three):
        assert "graded A" in submit().text
    assert with_three <= 15


def test_the_preview_of_a_finished_inspection_says_so_in_the_scan_panel(
    clerk_client, station, clerk, product, checklist
):
    item = make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
    response = clerk_client.post(preview_url(item), {}, **HTMX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#scan-panel"
    assert "is not open here" in response.text


def test_the_desk_lists_the_units_graded_here_newest_first(
    clerk_client, station, clerk, product, checklist, monkeypatch
):
    monkeypatch.setattr("inspection.views.RECENT_SHOWN", 2)
    graded_here = [
        make_unit_at(Status.INSPECTED, station=station, user=clerk, product=product)
        for _ in range(3)
    ]
    elsewhere = make_unit_at(
        Status.INSPECTED, station=StationFactory(code="MIX-09"), user=UserFactory(), product=product
    )

    page = clerk_client.get(DESK).text
    recent = page[page.index('id="recent-inspections"') :]

    newest, second, oldest = graded_here[::-1]
    assert newest.lpn in recent and second.lpn in recent
    assert recent.index(newest.lpn) < recent.index(second.lpn)
    assert oldest.lpn not in recent and elsewhere.lpn not in recent
    graded = Inspection.objects.get(item=newest, superseded=False)
    assert f"{newest.lpn} <strong>{graded.grade_code}</strong>" in recent
    assert f'<time datetime="{localtime(graded.finished_at).isoformat()}">' in recent

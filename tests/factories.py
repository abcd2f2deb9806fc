"""Factories for the suite; states beyond 'authorised' are reached through the real services."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inspection.selectors import best_answer  # tests and bench/ import it from here
from returns_desk import services
from returns_desk.models import (
    Product,
    ProductCategory,
    Program,
    ReasonCode,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
    RMALine,
    Site,
    Station,
    TrackingNumber,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def role(self, create, role, **kwargs):
        if create and role:
            self.groups.add(Group.objects.get(name=role))
            self.is_staff = role == "admin"
        self.save()


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ["code"]

    code = "lon"
    name = "London DC"


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station
        django_get_or_create = ["site", "code"]

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"RCV-{n:02d}")
    kind = Station.Kind.BOTH


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ["code"]

    code = "customer-return"
    name = "Customer return"
    kind = Program.Kind.CUSTOMER_RETURN


class ReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReasonCode
        django_get_or_create = ["code"]

    code = "changed-mind"
    name = "Changed mind"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCategory
        django_get_or_create = ["code"]

    code = "home"
    name = "Home goods"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["sku"]

    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    unit_value = Decimal("12.50")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnPolicy
        django_get_or_create = ["name"]

    name = "Standard 30 days"
    window_days = 30
    late_arrival = ReturnPolicy.LateArrival.ACCEPT_AND_FLAG


class RMAFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnAuthorization

    number = factory.Sequence(lambda n: f"RMA{n:06d}")
    program = factory.SubFactory(ProgramFactory)
    policy = factory.SubFactory(PolicyFactory)
    order_reference = factory.Sequence(lambda n: f"ORD{n:06d}")
    customer_name = factory.Faker("name")
    customer_email = factory.Faker("email")
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))


class LineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RMALine

    rma = factory.SubFactory(RMAFactory)
    line_no = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory)
    quantity_expected = 1
    price_paid = Decimal("19.99")
    reason = factory.SubFactory(ReasonFactory)


def make_rma(*lines: tuple, tracking: str = "", **fields) -> ReturnAuthorization:
    """An RMA with lines given as (product, quantity) or (product, quantity, serial)."""
    rma = RMAFactory(**fields)
    for line_no, (product, quantity, *serial) in enumerate(lines, start=1):
        LineFactory(
            rma=rma,
            line_no=line_no,
            product=product,
            quantity_expected=quantity,
            serial_number=serial[0] if serial else "",
        )
    if tracking:
        TrackingNumber.objects.create(rma=rma, carrier="DPD", number=tracking)
    return rma


def open_parcel(rma, station, user):
    return services.receive_parcel(code=rma.number, station=station, user=user)


# Inspection: grading configuration, and units brought to a status through the real services.


class GradeScaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inspection.GradeScale"
        django_get_or_create = ["name"]
        skip_postgeneration_save = True

    name = "Standard"
    is_default = True

    @factory.post_generation
    def grades(self, create, grades, **kwargs):
        """(code, name, min score[, caps critical]) per grade; the demo scale by default."""
        from inspection.models import Grade

        if not create or self.grades.exists():
            return
        default = [("A", "like new", 90), ("B", "good", 75), ("C", "fair", 50)]
        default += [("D", "poor", 25, True), ("X", "scrap", 0)]
        for code, name, min_score, *cap in grades or default:
            Grade.objects.create(
                scale=self, code=code, name=name, min_score=min_score, caps_critical=bool(cap)
            )


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inspection.GradingCriterion"

    category = factory.SubFactory(CategoryFactory)
    question = factory.Sequence(lambda n: f"Question {n}")
    kind = "pass_fail"
    weight = 1
    order = factory.Sequence(lambda n: n)


def make_unit_at(
    status: str,
    *,
    station: Station,
    user: User,
    product: Product | None = None,
    answers: dict | None = None,
    serial: str = "",
    **rma_fields,
):
    """A unit received on its own RMA and brought to `status` through the services.

    Inspected units answer every question of their checklist with `answers` (criterion id ->
    raw answer) or else the best answer. Disposition does not exist yet, so 'disposed' is
    reached with the core's `move_item`, as the disposition service will.
    """
    from django.db import transaction

    from inspection import services as inspection
    from inspection.selectors import checklist_for

    Status = ReturnItem.Status
    product = product or ProductFactory()
    if status == Status.HELD:
        rma = make_rma((ProductFactory(), 1), **rma_fields)
        parcel = open_parcel(rma, station, user)
        item, _ = services.receive_exception_unit(
            parcel=parcel, code=product.sku, kind="wrong_item", station=station, user=user
        )
        return item
    rma = make_rma((product, 1, serial) if serial else (product, 1), **rma_fields)
    item, _ = services.receive_unit(
        parcel=open_parcel(rma, station, user),
        code=serial or product.sku,
        station=station,
        user=user,
    )
    if status == Status.RECEIVED:
        return item
    started = inspection.start_inspection(lpn=item.lpn, station=station, user=user)
    if status == Status.INSPECTING:
        return ReturnItem.objects.get(pk=item.pk)
    if answers is None:
        answers = {c.pk: best_answer(c) for c in checklist_for(started.item)}
    inspection.record_answers(inspection=started, answers=answers, station=station, user=user)
    inspection.complete_inspection(inspection=started, station=station, user=user)
    item = ReturnItem.objects.get(pk=item.pk)
    if status == Status.DISPOSED:
        with transaction.atomic():
            locked = ReturnItem.objects.select_for_update().get(pk=item.pk)
            services.move_item(
                locked, to_status=Status.DISPOSED, action="disposed", user=user, station=station
            )
        item.refresh_from_db()
    return item

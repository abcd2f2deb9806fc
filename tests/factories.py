"""Factories for the suite; states beyond 'authorised' are reached through the real services."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from returns_desk import services
from returns_desk.models import (
    Product,
    ProductCategory,
    Program,
    ReasonCode,
    ReturnAuthorization,
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

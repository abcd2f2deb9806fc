"""The JSON API for integrations, under /api/v1/, described at /api/v1/openapi.json.

Every request carries `Authorization: Bearer rd_...` (keys are made in the admin). Errors are
JSON `{"detail": ..., "errors": {field: [messages]}}`: 400 invalid input, 401 unknown or
revoked key, 403 a read key writing, 404 unknown RMA or unit, 409 a number already taken (or
a write that met another at the same rows: nothing was saved, send it again),
413 a body over DATA_UPLOAD_MAX_MEMORY_SIZE, 422 a reused Idempotency-Key with another body.
The API is token-authenticated, so it is exempt from CSRF and from the login the screens need.
"""

import base64
import binascii
import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.utils import timezone, translation
from ninja import Field, Header, NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import AfterValidator, StringConstraints

from . import apikeys, services
from .exceptions import DomainError, RmaConflict
from .facts import unit_facts
from .middleware import lost_a_race
from .models import (
    ApiKey,
    Channel,
    IdempotencyRecord,
    ItemEvent,
    Parcel,
    Product,
    Program,
    ReasonCode,
    ReturnAuthorization,
    ReturnItem,
    ReturnPolicy,
    RMALine,
)
from .scanning import canonical

RMA = ReturnAuthorization
PAGE_SIZE_MAX = 200
HISTORY_MAX = 500
# Dates far outside this are typing mistakes, and date arithmetic on them would overflow.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class KeyAuth(HttpBearer):
    """A Bearer API key holding `scope`: 401 for an unknown or revoked key, 403 for the scope.

    Checked before the body is read, so a read key is refused a write whatever it sends.
    """

    def __init__(self, scope: str = ApiKey.Scope.READ):
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = apikeys.authenticate(token)
        if key is not None and not key.allows(self.scope):
            raise HttpError(
                403, f"This key may not {self.scope}: it needs the '{self.scope}' scope."
            )
        request.api_key = key
        return key


api = NinjaAPI(
    title="Returns Desk API",
    version="1",
    description=__doc__,
    auth=KeyAuth(),
    urls_namespace="api",
)


# --- input --------------------------------------------------------------------------------------


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _in_range(day: date | None) -> date | None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return day


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("is not a valid e-mail address") from None
    return value


# Identifiers a scanner can type: printable ASCII, as receiving matches them.
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[ -~]+$")
]
Text = Annotated[str, AfterValidator(_no_nul)]
Day = Annotated[date | None, AfterValidator(_in_range)]


class LineIn(Schema):
    sku: Code
    quantity: int = Field(1, ge=1, le=100_000)
    reason: Code = Field(description="A reason code, e.g. 'defect'.")
    price_paid: Decimal = Field(Decimal(0), ge=0, max_digits=10, decimal_places=2)
    serial_number: Annotated[str, StringConstraints(max_length=60, pattern=r"^[ -~]*$")] = ""
    customer_comment: Annotated[Text, StringConstraints(max_length=2000)] = ""


class RmaIn(Schema):
    number: Code
    program: Code = Field(description="A program code, e.g. 'customer-return'.")
    policy: Annotated[Text, StringConstraints(max_length=100)] | None = Field(
        None, description="A policy name; by default the one covering the program and channel."
    )
    channel: Channel = Channel.WEB
    order_reference: Annotated[str, StringConstraints(max_length=40, pattern=r"^[ -~]*$")] = ""
    customer_name: Annotated[Text, StringConstraints(max_length=200)] = ""
    customer_email: Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)] = ""
    issued_on: Day = None
    purchased_on: Day = None
    tracking_numbers: list[Annotated[Code, StringConstraints(max_length=60)]] = Field(
        default_factory=list, max_length=20
    )
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class CancelIn(Schema):
    reason: Annotated[Text, StringConstraints(min_length=1, max_length=300)] = Field(
        description="Why the return is cancelled, e.g. 'customer kept the item'."
    )


# --- output -------------------------------------------------------------------------------------


class Error(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class LineOut(Schema):
    line_no: int
    sku: str
    product_name: str
    quantity_expected: int
    quantity_received: int
    serial_number: str
    price_paid: Decimal
    reason: str
    customer_comment: str


class RmaUnitOut(Schema):
    lpn: str = Field(
        description="Read the unit, with its grade, disposition and history, at /units/{lpn}."
    )
    status: str
    sku: str = Field(description="The product's SKU, or the code scanned for an unknown item.")
    serial_number: str
    rma_line: int | None = Field(description="The line it was received on; none for a wrong item.")
    received_at: datetime


class RmaOut(Schema):
    number: str
    status: str
    program: str
    policy: str
    channel: str
    order_reference: str
    customer_name: str
    customer_email: str
    issued_on: date
    expires_on: date
    purchased_on: date | None
    tracking_numbers: list[str]
    lines: list[LineOut]
    units: list[RmaUnitOut] = Field(description="Every unit received in its parcels, in order.")
    cancelled_at: datetime | None = Field(description="Set when the RMA was cancelled.")
    cancel_reason: str
    received_without_rma: bool = Field(
        description=(
            "Authorised at the receiving desk for a parcel that came without an RMA (its"
            " program's policy requires none): its tracking number is the parcel's label, and"
            " its lines are what was found in it."
        )
    )
    created_at: datetime
    updated_at: datetime


class RmaPage(Schema):
    items: list[RmaOut]
    next_cursor: str = Field(description="Pass as `cursor` to get what changed after this page.")


class EventOut(Schema):
    action: str
    from_status: str
    to_status: str
    at: datetime
    details: dict[str, Any]


class UnitOut(Schema):
    lpn: str
    status: str
    status_label: str
    sku: str
    product_name: str
    serial_number: str
    rma: str | None
    rma_line: int | None
    is_late: bool
    received_at: datetime
    grade: dict[str, Any] | None = Field(None, description="From inspection, once graded.")
    disposition: dict[str, Any] | None = Field(None, description="From disposition, once decided.")
    refund: dict[str, Any] | None = Field(None, description="From disposition, once computed.")
    history: list[EventOut]


def rma_out(rma: RMA) -> dict:
    return {
        "number": rma.number,
        "status": rma.status,
        "program": rma.program.code,
        "policy": rma.policy.name,
        "channel": rma.channel,
        "order_reference": rma.order_reference,
        "customer_name": rma.customer_name,
        "customer_email": rma.customer_email,
        "issued_on": rma.issued_on,
        "expires_on": rma.expires_on,
        "purchased_on": rma.purchased_on,
        "tracking_numbers": [tracking.number for tracking in rma.tracking.all()],
        "received_without_rma": rma.unannounced_reason_id is not None,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.product.sku,
                "product_name": line.product.name,
                "quantity_expected": line.quantity_expected,
                "quantity_received": line.quantity_received,
                "serial_number": line.serial_number,
                "price_paid": line.price_paid,
                "reason": line.reason.code,
                "customer_comment": line.customer_comment,
            }
            for line in rma.lines.all()
        ],
        "units": [
            {
                "lpn": unit.lpn,
                "status": unit.status,
                "sku": unit.product.sku if unit.product else unit.scanned_code,
                "serial_number": unit.serial_number,
                "rma_line": unit.rma_line.line_no if unit.rma_line else None,
                "received_at": unit.received_at,
            }
            for parcel in rma.parcels.all()
            for unit in parcel.items.all()
        ],
        "cancelled_at": rma.cancelled_at,
        "cancel_reason": rma.cancel_reason,
        "created_at": rma.created_at,
        "updated_at": rma.updated_at,
    }


def rmas_with_details():
    """RMAs with everything rma_out reads, in six queries however many there are."""
    return RMA.objects.select_related("program", "policy").prefetch_related(
        "tracking",
        Prefetch("lines", RMALine.objects.select_related("product", "reason").order_by("line_no")),
        Prefetch("parcels", Parcel.objects.order_by("received_at", "pk")),
        Prefetch(
            "parcels__items",
            ReturnItem.objects.select_related("product", "rma_line").order_by("received_at", "pk"),
        ),
    )


def rma_json(rma: RMA) -> dict:
    """rma_out as the JSON it is sent as, to store for idempotent replays."""
    return json.loads(RmaOut(**rma_out(rma)).model_dump_json())


ERRORS = {code: Error for code in (400, 401, 403, 404, 409, 413, 422)}


# --- endpoints ----------------------------------------------------------------------------------


def _field_errors(errors: list[dict]) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        # loc is ("body", "payload", "lines", 0, "sku") or ("query", "limit"): drop the wrapper.
        loc = [str(part) for part in error.get("loc", ())]
        if loc[:1] == ["body"]:
            loc = loc[2:]
        elif loc:
            loc = loc[1:]
        by_field.setdefault(".".join(loc) or "__all__", []).append(error.get("msg", "invalid"))
    return by_field


def _invalid(errors: dict[str, list[str]]) -> HttpError:
    """A 400 naming the fields at fault, for checks only the database can make."""
    error = HttpError(400, "The request is not valid.")
    error.errors = errors
    return error


def _bad(field: str, message: str) -> HttpError:
    return _invalid({field: [message]})


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    return api.create_response(
        request,
        {"detail": "The request is not valid.", "errors": _field_errors(exc.errors)},
        status=400,
    )


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc: RequestDataTooBig):
    return api.create_response(request, {"detail": "The request body is too large."}, status=413)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    body = {"detail": str(exc)}
    if errors := getattr(exc, "errors", None):
        body["errors"] = errors
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(request, {"detail": exc.message}, status=exc.status)


@api.exception_handler(OperationalError)
def lost_race(request, exc: OperationalError):
    if not lost_a_race(exc):
        raise exc
    return api.create_response(
        request,
        {
            "detail": "Another request changed the same records at that moment; nothing was saved. "
            "Send it again (with the same Idempotency-Key, if it had one)."
        },
        status=409,
    )


def _resolve_lines(payload: RmaIn) -> list[services.NewLine]:
    skus = {canonical(line.sku) for line in payload.lines}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    codes = {line.reason for line in payload.lines}
    reasons = {reason.code: reason for reason in ReasonCode.objects.filter(code__in=codes)}
    errors: dict[str, list[str]] = {}
    for n, line in enumerate(payload.lines):
        if canonical(line.sku) not in products:
            errors[f"lines.{n}.sku"] = [f"Unknown SKU '{line.sku}'."]
        if line.reason not in reasons:
            errors[f"lines.{n}.reason"] = [f"Unknown reason code '{line.reason}'."]
        # In English whatever the client's Accept-Language, as the API's other messages.
        with translation.override("en"):
            problem = RMALine.serial_problem(line.serial_number, line.quantity)
        if problem:
            errors[f"lines.{n}.serial_number"] = [problem]
    if errors:
        raise _invalid(errors)
    return [
        services.NewLine(
            product=products[canonical(line.sku)],
            quantity=line.quantity,
            reason=reasons[line.reason],
            price_paid=line.price_paid,
            serial_number=line.serial_number,
            customer_comment=line.customer_comment,
        )
        for line in payload.lines
    ]


def _create(payload: RmaIn) -> RMA:
    program = Program.objects.filter(code=payload.program, active=True).first()
    if program is None:
        raise _bad("program", f"Unknown program '{payload.program}'.")
    policy = None
    if payload.policy:
        policy = ReturnPolicy.objects.filter(name=payload.policy, active=True).first()
        if policy is None:
            raise _bad("policy", f"Unknown policy '{payload.policy}'.")
    return services.create_rma(
        number=payload.number,
        program=program,
        policy=policy,
        channel=payload.channel,
        lines=_resolve_lines(payload),
        order_reference=payload.order_reference,
        customer_name=payload.customer_name,
        customer_email=payload.customer_email,
        issued_on=payload.issued_on,
        purchased_on=payload.purchased_on,
        tracking=payload.tracking_numbers,
    )


def _replay(record: IdempotencyRecord, request_hash: str):
    if record.request_hash != request_hash:
        raise HttpError(422, "This Idempotency-Key was used for a different request.")
    return Status(record.status_code, record.response)


@api.post(
    "/rmas",
    response={201: RmaOut, **ERRORS},
    auth=KeyAuth(ApiKey.Scope.WRITE),
    summary="Create an RMA with its lines",
)
def create_rma(
    request,
    payload: RmaIn,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=255, pattern=r"^[ -~]+$"),
    ] = None,
):
    """Authorise a return. Send an `Idempotency-Key` so a retry returns the first answer.

    A retry with the same key and body gets the stored 201 again (never a second RMA); the
    same key with a different body is refused with 422.
    """
    if not idempotency_key:
        return Status(201, rma_json(_create(payload)))
    request_hash = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    records = IdempotencyRecord.objects.filter(api_key=request.api_key, key=idempotency_key)
    if record := records.first():
        return _replay(record, request_hash)
    try:
        with transaction.atomic():
            body = rma_json(_create(payload))
            IdempotencyRecord.objects.create(
                api_key=request.api_key,
                key=idempotency_key,
                request_hash=request_hash,
                status_code=201,
                response=body,
            )
    except (IntegrityError, RmaConflict):
        # A concurrent retry with this key won: answer as it did.
        if record := records.first():
            return _replay(record, request_hash)
        raise
    return Status(201, body)


# RMA numbers may hold "/" (ERP numbering such as RMA/2025/0001), so they are matched as a
# path. The cancel route comes first, or the read route would take ".../cancel" as a number; no
# number ends in "/cancel" itself, since numbers are stored upper-case.
@api.post(
    "/rmas/{path:number}/cancel",
    response={200: RmaOut, **ERRORS},
    auth=KeyAuth(ApiKey.Scope.WRITE),
    summary="Cancel an RMA nothing has arrived for",
)
def cancel_rma(request, number: str, payload: CancelIn):
    """The customer will not send it after all. A parcel scanned for a cancelled RMA is refused
    at receiving. Refused with 409 once a parcel for it arrived; cancelling again answers 200
    with the RMA as the first cancel left it, so a retry is safe."""
    rma = RMA.objects.filter(number=canonical(number)).first() if _fits(number) else None
    if rma is None:
        raise HttpError(404, "No RMA has this number.")
    services.cancel_rma(
        rma=rma, reason=payload.reason, cancelled_by=f"API key {request.api_key.name}"
    )
    return Status(200, rma_out(rmas_with_details().get(pk=rma.pk)))


@api.get("/rmas/{path:number}", response={200: RmaOut, **ERRORS}, summary="Read an RMA")
def read_rma(request, number: str):
    rma = rmas_with_details().filter(number=canonical(number)).first() if _fits(number) else None
    if rma is None:
        raise HttpError(404, "No RMA has this number.")
    return Status(200, rma_out(rma))


def _fits(code: str, longest: int = 60) -> bool:
    return len(code) <= longest and "\x00" not in code


def _cursor(rma: RMA) -> str:
    return base64.urlsafe_b64encode(f"{rma.updated_at.isoformat()}|{rma.pk}".encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        changed, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        changed = datetime.fromisoformat(changed)
        if changed.tzinfo is None:
            raise ValueError
        return changed, int(pk)
    except (ValueError, binascii.Error, UnicodeError):
        raise _bad("cursor", "This is not a cursor this API gave out.") from None


@api.get("/rmas", response={200: RmaPage, **ERRORS}, summary="List RMAs changed since a cursor")
def list_changed_rmas(
    request,
    cursor: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 100,
):
    """RMAs in the order they last changed, oldest first, `limit` at a time.

    Start without a cursor; then pass the `next_cursor` of each page (also of an empty one)
    to get only what changed since. Changes of the last API_CHANGES_SETTLE_SECONDS are left
    for the next poll, so a transaction still committing is never skipped.
    """
    settled = timezone.now() - timedelta(seconds=settings.API_CHANGES_SETTLE_SECONDS)
    rmas = rmas_with_details().filter(updated_at__lt=settled).order_by("updated_at", "pk")
    if cursor:
        changed, pk = _parse_cursor(cursor)
        rmas = rmas.filter(Q(updated_at__gt=changed) | Q(updated_at=changed, pk__gt=pk))
    page = list(rmas[:limit])
    return Status(
        200,
        {
            "items": [rma_out(rma) for rma in page],
            "next_cursor": _cursor(page[-1]) if page else cursor,
        },
    )


@api.get("/units/{lpn}", response={200: UnitOut, **ERRORS}, summary="Read a unit by its LPN")
def read_unit(request, lpn: str):
    """A unit's status, its grade, disposition and refund where known, and its history."""
    item = (
        ReturnItem.objects.select_related("product", "rma_line__rma", "parcel__rma")
        .filter(lpn=canonical(lpn))
        .first()
        if _fits(lpn)
        else None
    )
    if item is None:
        raise HttpError(404, "No unit has this LPN.")
    history = ItemEvent.objects.filter(item=item).order_by("created_at", "pk")[:HISTORY_MAX]
    facts = unit_facts([item])[item.pk]
    return Status(
        200,
        {
            "lpn": item.lpn,
            "status": item.status,
            "status_label": item.get_status_display(),
            "sku": item.product.sku if item.product else item.scanned_code,
            "product_name": item.product.name if item.product else "",
            "serial_number": item.serial_number,
            "rma": item.rma.number if item.rma else None,
            "rma_line": item.rma_line.line_no if item.rma_line else None,
            "is_late": item.is_late,
            "received_at": item.received_at,
            "grade": facts.get("grade"),
            "disposition": facts.get("disposition"),
            "refund": facts.get("refund"),
            "history": [
                {
                    "action": event.action,
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "at": event.created_at,
                    "details": event.details,
                }
                for event in history
            ],
        },
    )


def urls():
    """The API's URL patterns, open without a login: the API key is their authentication."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = login_not_required(pattern.callback)
    return patterns, app_name, namespace

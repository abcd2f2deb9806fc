"""CSV import of RMAs: our own columns, saved mappings for other systems, dry run and rollback."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from returns_desk.imports import SAMPLE_FILE, ImportFileError, import_rmas
from returns_desk.models import (
    Channel,
    ImportMapping,
    Product,
    ReturnAuthorization,
    RMALine,
    TrackingNumber,
)
from tests.factories import (
    PolicyFactory,
    ProductFactory,
    ProgramFactory,
    ReasonFactory,
    UserFactory,
    make_rma,
)

pytestmark = pytest.mark.django_db

UCI_FILE = Path(__file__).parents[2] / "returns_desk/demo_data/online_retail_ii_returns_excerpt.csv"
UCI = "UCI Online Retail II (cancelled invoices)"
FBA = "Amazon FBA customer returns report"
HEADER = "rma_number,sku,quantity,reason,price_paid,customer_email,tracking_number\n"


@pytest.fixture(autouse=True)
def _reference_data(db):
    customer_return = ProgramFactory()
    warranty = ProgramFactory(code="warranty", name="Warranty", kind="warranty")
    PolicyFactory().programs.add(customer_return)
    PolicyFactory(name="Warranty 1 year", window_days=365).programs.add(warranty)
    for code in ("wrong-size", "changed-mind", "warranty-claim", "defect"):
        ReasonFactory(code=code, name=code.replace("-", " ").capitalize())
    for sku in ("AP-JKT-M", "AP-TEE-S", "EL-PHN-X12"):
        ProductFactory(sku=sku)


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


# --- our own format -----------------------------------------------------------------------------


def test_the_sample_file_imports_its_rmas_and_lines():
    report = import_rmas(data=SAMPLE_FILE.read_bytes(), mapping=None, dry_run=False)

    assert report.ok and report.written
    assert report.rmas_created == ["RMA-200001", "RMA-200002"]
    assert report.lines_created == 3
    rma = ReturnAuthorization.objects.get(number="RMA-200001")
    assert rma.customer_email == "joe@example.com"
    assert rma.policy.name == "Standard 30 days"
    assert list(rma.tracking.values_list("number", flat=True)) == ["1Z999AA10123456799"]
    assert [line.product.sku for line in rma.lines.order_by("line_no")] == ["AP-JKT-M", "AP-TEE-S"]
    assert ReturnAuthorization.objects.get(number="RMA-200002").program.code == "warranty"


def test_a_dry_run_reports_what_would_be_imported_and_writes_nothing():
    report = import_rmas(data=SAMPLE_FILE.read_bytes(), mapping=None, dry_run=True)

    assert report.ok and not report.written
    assert report.rmas_created == ["RMA-200001", "RMA-200002"]
    assert not ReturnAuthorization.objects.exists()


def test_a_dry_run_lists_every_bad_row_with_its_line_number():
    data = csv_bytes(
        "RMA-1,AP-JKT-M,1,wrong-size,10,a@example.com,",
        "RMA-2,AP-JKT-M,two,wrong-size,10,b@example.com,",
        "RMA-3,NO-SUCH-SKU,1,wrong-size,10,c@example.com,",
        "RMA-4,AP-JKT-M,1,bored,10,d@example.com,",
        "RMA-5,AP-JKT-M,1,defect,ten,not-an-address,",
        ",AP-JKT-M,1,defect,1,,",
    )

    report = import_rmas(data=data, mapping=None, dry_run=True)

    problems = {(p.line, p.message.split(" ")[0]) for p in report.errors}
    assert problems == {
        (3, "quantity"),
        (5, "reason"),
        (6, "price_paid"),
        (6, "customer_email"),
        (7, "rma_number"),
        (4, "SKU"),
    }
    assert not ReturnAuthorization.objects.exists()


def test_an_import_with_one_bad_rma_writes_nothing_at_all():
    make_rma((ProductFactory(), 1), tracking="TRACK-TAKEN")
    data = csv_bytes(
        "RMA-1,AP-JKT-M,1,wrong-size,10,a@example.com,",
        "RMA-2,AP-TEE-S,1,wrong-size,10,b@example.com,TRACK-TAKEN",
    )

    report = import_rmas(data=data, mapping=None, dry_run=False)

    assert not report.ok and not report.written
    assert "belongs to another RMA" in report.errors[0].message
    assert report.errors[0].line == 3
    assert not ReturnAuthorization.objects.filter(number__in=["RMA-1", "RMA-2"]).exists()


def test_importing_the_same_file_again_skips_the_rmas_already_there():
    import_rmas(data=SAMPLE_FILE.read_bytes(), mapping=None, dry_run=False)

    again = import_rmas(data=SAMPLE_FILE.read_bytes(), mapping=None, dry_run=False)

    assert again.ok
    assert again.rmas_created == []
    assert again.already_imported == ["RMA-200001", "RMA-200002"]
    assert ReturnAuthorization.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"", "empty"),
        (b"number,item\nRMA-1,X\n", "no column rma_number, sku, quantity"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(data, message):
    with pytest.raises(ImportFileError, match=message):
        import_rmas(data=data, mapping=None, dry_run=True)


def test_a_serial_on_a_row_of_several_units_is_a_row_error():
    data = (
        b"rma_number,sku,quantity,reason,serial_number\n"
        b"RMA-1,EL-PHN-X12,1,defect,SN-1\n"
        b"RMA-1,EL-PHN-X12,2,defect,SN-2\n"
    )

    report = import_rmas(data=data, mapping=None, dry_run=False)

    [problem] = report.errors
    assert problem.line == 3
    assert problem.message.startswith("Serial number SN-2 names one unit")
    assert not ReturnAuthorization.objects.exists()


def a_file_with_a_quote_never_closed() -> bytes:
    # The quote on line 3 makes the rest of a long export one field, over the csv module's limit.
    rows = ["RMA-1,AP-JKT-M,1,defect,10,a@example.com,", 'RMA-2,AP-JKT-M,1,defect,"10,,']
    rows += [f"RMA-{n},AP-TEE-S,1,defect,10,,TRACK-{n}" for n in range(3, 5000)]
    return csv_bytes(*rows)


def test_a_quote_never_closed_is_refused_naming_the_line_it_opens_on():
    with pytest.raises(ImportFileError, match=r"^Line 3 cannot be read as CSV"):
        import_rmas(data=a_file_with_a_quote_never_closed(), mapping=None, dry_run=False)

    assert not ReturnAuthorization.objects.exists()


# --- saved mappings -----------------------------------------------------------------------------


def uci_profile() -> tuple[set[str], int, Counter]:
    """What the real file holds, counted straight from it: invoices with goods, lines, charges."""
    with UCI_FILE.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    charges = {"POST", "DOT", "C2", "D", "M", "BANK CHARGES", "ADJUST", "AMAZONFEE", "CRUK", "S"}
    goods = [row for row in rows if row["StockCode"] not in charges]
    return (
        {row["Invoice"] for row in goods},
        len(goods),
        Counter(row["StockCode"] for row in rows if row["StockCode"] in charges),
    )


def test_a_number_the_mapping_prefix_makes_too_long_is_a_row_error():
    mapping = ImportMapping.objects.create(name="Marketplace", rma_number_prefix="MKTPLACE-")
    fits, too_long = "R" * 31, "S" * 32  # 40 and 41 characters with the prefix
    data = csv_bytes(
        f"{fits},AP-JKT-M,1,defect,10,,",
        f"{too_long},AP-JKT-M,1,defect,10,,",
    )

    report = import_rmas(data=data, mapping=mapping, dry_run=False)

    [problem] = report.errors
    assert problem.line == 3
    assert problem.message == (
        f"rma_number MKTPLACE-{too_long} is longer than 40 characters with the prefix MKTPLACE-."
    )
    assert not ReturnAuthorization.objects.exists()
    without_it = csv_bytes(f"{fits},AP-JKT-M,1,defect,10,,")
    fixed = import_rmas(data=without_it, mapping=mapping, dry_run=False)
    assert fixed.rmas_created == [f"MKTPLACE-{fits}"]


def test_the_real_uci_returns_file_imports_with_its_saved_mapping():
    invoices, lines, charges = uci_profile()

    report = import_rmas(
        data=UCI_FILE.read_bytes(), mapping=ImportMapping.objects.get(name=UCI), dry_run=False
    )

    assert report.errors == []
    assert report.rows == 873
    assert len(report.rmas_created) == len(invoices) == 348
    assert report.lines_created == lines == 823
    assert len(report.products_created) == 576
    assert report.non_product_counts == dict(charges.most_common())
    assert sum(charges.values()) == len(report.non_product_rows) == 50
    assert RMALine.objects.count() == 823
    # Wholesale returns keep their quantity, now positive; the customer number loses its ".0".
    assert RMALine.objects.order_by("-quantity_expected").first().quantity_expected == 1515
    rma = ReturnAuthorization.objects.get(number="C489449")
    assert rma.customer_name == "16321"
    assert str(rma.issued_on) == "2009-12-01"
    assert rma.lines.first().reason.code == "unspecified"


def test_the_fba_returns_report_imports_with_its_saved_mapping():
    ReasonFactory(code="undeliverable", name="Undeliverable")
    ReasonFactory(code="not-as-described", name="Not as described")
    PolicyFactory(name="Marketplace 14 days", channels=[Channel.MARKETPLACE]).programs.add(
        ProgramFactory()
    )
    header = (
        "return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\t"
        "fulfillment-center-id\tdetailed-disposition\treason\tstatus\tlicense-plate-number\t"
        "customer-comments\n"
    )
    rows = [
        "2026-11-02T09:14:51+00:00\t114-1234567-7654321\tAP-JKT-M\tB0ABC\tX0A\tRain jacket M\t1"
        "\tLTN1\tSELLABLE\tAPPAREL_TOO_SMALL\tReimbursed\tLPNRR0012345678\tToo small\n",
        "2026-11-02T09:14:51+00:00\t114-1234567-7654321\tNEW-MUG-1\tB0DEF\tX0B\tEnamel mug\t2"
        "\tLTN1\tDEFECTIVE\tNOT_AS_DESCRIBED\tUnit returned to inventory\tLPNRR0012345679\t\n",
        "2026-11-03T17:00:00+00:00\t205-7654321-1234567\tAP-TEE-S\tB0GHI\tX0C\tT-shirt S\t1"
        "\tLTN1\tSELLABLE\tNO_REASON_GIVEN\tReimbursed\tLPNRR0012345680\t\n",
    ]

    report = import_rmas(
        data=(header + "".join(rows)).encode(),
        mapping=ImportMapping.objects.get(name=FBA),
        dry_run=False,
    )

    assert report.errors == []
    assert report.rmas_created == ["FBA-114-1234567-7654321", "FBA-205-7654321-1234567"]
    rma = ReturnAuthorization.objects.get(number="FBA-114-1234567-7654321")
    assert rma.channel == Channel.MARKETPLACE
    assert rma.policy.name == "Marketplace 14 days"
    assert rma.order_reference == "114-1234567-7654321"
    assert str(rma.issued_on) == "2026-11-02"
    lines = list(rma.lines.order_by("line_no"))
    assert [line.reason.code for line in lines] == ["wrong-size", "not-as-described"]
    assert lines[0].customer_comment == "Too small"
    assert Product.objects.get(sku="NEW-MUG-1").name == "Enamel mug"
    # Amazon's license plates are what arrives on the box: receiving can scan them.
    assert set(TrackingNumber.objects.filter(rma=rma).values_list("number", flat=True)) == {
        "LPNRR0012345678",
        "LPNRR0012345679",
    }
    other = ReturnAuthorization.objects.get(number="FBA-205-7654321-1234567")
    assert other.lines.get().reason.code == "unspecified"


# --- the admin screen ---------------------------------------------------------------------------


IMPORT_URL = "/admin/returns_desk/returnauthorization/import/"


def test_the_admin_checks_a_file_then_imports_it(admin_client):
    with SAMPLE_FILE.open("rb") as file:
        checked = admin_client.post(IMPORT_URL, {"file": file, "check": "1"})
    assert checked.status_code == 200
    assert "Ready to import" in checked.text
    assert not ReturnAuthorization.objects.exists()

    with SAMPLE_FILE.open("rb") as file:
        imported = admin_client.post(IMPORT_URL, {"file": file, "import": "1"})
    assert "Imported" in imported.text
    assert ReturnAuthorization.objects.count() == 2


def test_the_admin_shows_row_errors_and_writes_nothing(admin_client, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("RMA-1,NOPE,1,defect,1,,"))

    with bad.open("rb") as file:
        response = admin_client.post(IMPORT_URL, {"file": file, "import": "1"})

    assert response.status_code == 400
    assert "SKU NOPE is not a product we know." in response.text
    assert not ReturnAuthorization.objects.exists()


def test_the_admin_refuses_a_file_with_a_quote_never_closed(admin_client, tmp_path):
    bad = tmp_path / "unclosed.csv"
    bad.write_bytes(a_file_with_a_quote_never_closed())

    with bad.open("rb") as file:
        response = admin_client.post(IMPORT_URL, {"file": file, "import": "1"})

    assert response.status_code == 400
    assert "Line 3 cannot be read as CSV" in response.text
    assert not ReturnAuthorization.objects.exists()


def test_only_users_who_may_add_rmas_can_import(client):
    supervisor = UserFactory(username="sam", role="supervisor")
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)

    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(IMPORT_URL + "sample.csv").status_code == 403


def test_the_sample_file_can_be_downloaded(admin_client):
    response = admin_client.get(IMPORT_URL + "sample.csv")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SAMPLE_FILE.read_bytes()

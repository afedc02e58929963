"""CSV import of the MSP directory (preview, errors by row and column, all or nothing) and the safe CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tmw.accounts.tenancy import operator_scope
from tmw.directory import imports, services
from tmw.directory.imports import ImportFileError, read_import
from tmw.directory.models import MSPContact, MSPProfile
from tmw.errors import ApplicationError
from tmw.web import csv_cell as neutralise

HEADER = "legal_name,city,region,country,website,employees,technicians,verticals,service_lines,psa_tools,rmm_tools,pe_backed,community_member,relationship,contact_name,contact_email\n"  # noqa: E501
GOOD = (
    HEADER
    + "Harbour IT,Halifax,NS,CA,harbour-it.example,35,14,Healthcare; Legal,Managed IT; SOC / MDR,ConnectWise,NinjaOne,no,yes,warm,Pat Lee,pat@harbour-it.example\n"  # noqa: E501
    + "Lone Star Networks,Dallas,TX,US,https://lonestar.example,120,70,financial,managed_it;backup,Autotask,Datto RMM,yes,no,strong,,\n"  # noqa: E501
)


def upload(client, text: str | bytes, name="msps.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(reverse("directory:msp_import"), {"file": SimpleUploadedFile(name, content, "text/csv")})


def errors_of(text: str) -> list[tuple[int, str, str]]:
    with operator_scope():
        preview = read_import(text)
    return [(row.number, column, message) for row in preview.rows for column, message in row.errors]


def directory_names() -> set[str]:
    with operator_scope():
        return set(MSPProfile.objects.values_list("legal_name", flat=True))


def test_upload_previews_then_confirm_imports_everything(world, client_for):
    client = client_for(world.partner)
    response = upload(client, GOOD)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Preview: 2 rows" in body and "2 new" in body
    assert "Harbour IT" not in directory_names()  # nothing saved before confirming
    payload = response.context["payload"]
    done = client.post(reverse("directory:msp_import"), {"payload": payload, "confirm": "1"})
    assert done.status_code == 302
    with operator_scope():
        harbour = MSPProfile.objects.get(legal_name="Harbour IT")
        star = MSPProfile.objects.get(legal_name="Lone Star Networks")
        assert harbour.verticals == ["healthcare", "legal"]
        assert harbour.service_lines == ["managed_it", "soc_mdr"]
        assert harbour.psa_tools == ["connectwise_psa"] and harbour.rmm_tools == ["ninjaone"]
        assert harbour.website == "https://harbour-it.example"
        assert harbour.community_member and not harbour.pe_backed and harbour.relationship == 2
        assert MSPContact.objects.get(msp=harbour).email == "pat@harbour-it.example"
        assert star.pe_backed and star.rmm_tools == ["datto_rmm"] and star.service_lines == ["managed_it", "backup_dr"]


def test_a_row_matching_the_directory_is_an_update(world, client_for):
    text = HEADER + "Marlinspike MSP,Toronto,ON,CA,,55,20,,,,,,,,,\n"
    with operator_scope():
        preview = services.msp_import(actor=world.partner, text=text, dry_run=True)
    [row] = preview.rows
    assert row.action == "update" and row.existing_name == "Marlinspike MSP"
    assert preview.summary == {"created": 0, "updated": 1}
    with operator_scope():
        assert MSPProfile.objects.get(legal_name="Marlinspike MSP").employees != 55  # the dry run wrote nothing
        result = services.msp_import(actor=world.partner, text=text, plan=preview.plan)
        profile = MSPProfile.objects.get(legal_name="Marlinspike MSP")
    assert result.summary == {"created": 0, "updated": 1}
    assert (profile.employees, profile.technicians) == (55, 20)
    assert profile.verticals == ["healthcare", "legal"]  # an empty cell keeps what the directory has


def test_the_preview_is_a_dry_run_of_the_import(world, client_for):
    from tmw.accounts.models import AuditEvent

    with operator_scope():
        audits = AuditEvent.objects.count()
        dry = services.msp_import(actor=world.partner, text=GOOD, dry_run=True)
        assert dry.dry_run and dry.summary == {"created": 2, "updated": 0} and dry.is_valid
        assert not directory_names() & {"Harbour IT", "Lone Star Networks"}  # nothing written
        assert not MSPContact.objects.filter(email="pat@harbour-it.example").exists()
        assert AuditEvent.objects.count() == audits
        done = services.msp_import(actor=world.partner, text=GOOD, plan=dry.plan)
    assert not done.dry_run and done.summary == dry.summary
    assert {"Harbour IT", "Lone Star Networks"} <= directory_names()


def test_an_error_met_while_writing_is_reported_on_its_row_by_the_dry_run(world, monkeypatch):
    from django.core.exceptions import ValidationError

    from tmw.directory import services as directory_services

    real = directory_services._create_profile

    def refuse_harbour(*, data):
        if data["legal_name"] == "Harbour IT":
            raise ValidationError({"legal_name": ["refused"]})
        return real(data=data)

    monkeypatch.setattr(directory_services, "_create_profile", refuse_harbour)
    with operator_scope():
        dry = services.msp_import(actor=world.partner, text=GOOD, dry_run=True)
        assert not dry.is_valid and dry.rows[0].errors == [("", "refused")]
        with pytest.raises(ApplicationError, match="Row 2 has errors; nothing was imported."):
            services.msp_import(actor=world.partner, text=GOOD, plan=dry.plan)
    assert not directory_names() & {"Harbour IT", "Lone Star Networks"}


def test_missing_column_is_named(world):
    with pytest.raises(ImportFileError, match="Missing columns: region, country"):
        errors_of("legal_name,city\nX,Y\n")


def test_bad_number_unknown_country_and_bad_region_name_row_and_column(world):
    text = (
        HEADER
        + "Good MSP,Austin,TX,US,,10,5,,,,,,,,,\n"
        + "Bad Numbers,Austin,TX,US,,ten,5.5,,,,,,,,,\n"
        + "Far Away,Paris,IDF,France,,10,5,,,,,,,,,\n"
        + "Wrong Place,Toronto,TX,CA,,10,5,,,,,,,,,\n"
        + "Odd Lists,Austin,TX,US,,10,5,Underwater basket weaving,,Excel,,maybe,,best friends,,\n"
    )
    assert errors_of(text) == [
        (3, "employees", "“ten” is not a whole number"),
        (3, "technicians", "“5.5” is not a whole number"),
        (4, "country", "unknown country “France”: use US or CA"),
        (5, "region", "“TX” is not a province of CA"),
        (6, "verticals", "unknown: Underwater basket weaving"),
        (6, "psa_tools", "unknown: Excel"),
        (6, "pe_backed", "“maybe” is not yes or no"),
        (6, "relationship", "“best friends” is not none, aware, warm or strong"),
    ]


def test_required_values_and_contacts(world):
    text = HEADER + ",Austin,,US,,,,,,,,,,,,pat@example.com\n"
    assert errors_of(text) == [
        (2, "legal_name", "required"),
        (2, "region", "required"),
        (2, "contact_name", "required when other contact columns are filled"),
    ]


def test_duplicates_within_the_file(world):
    text = (
        HEADER
        + "Twin IT,Denver,CO,US,twin.example,,,,,,,,,,,\n"
        + "twin it,denver,CO,US,,,,,,,,,,,,\n"
        + "Other Name,Boulder,CO,US,https://www.twin.example/about,,,,,,,,,,,\n"
    )
    assert errors_of(text) == [
        (3, "legal_name", "duplicate of row 2 (same legal name and city)"),
        (4, "website", "duplicate of row 2 (same website)"),
    ]


def test_an_error_anywhere_imports_nothing(world, client_for):
    client = client_for(world.partner)
    text = GOOD + "Broken,Austin,TX,US,,many,,,,,,,,,,\n"
    response = upload(client, text)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Row 4, column employees: “many” is not a whole number" in body
    assert "nothing will be imported" in body
    assert "payload" not in response.context or not response.context.get("payload")
    assert not directory_names() & {"Harbour IT", "Lone Star Networks"}


def test_the_directory_changing_after_the_preview_stops_the_whole_import(world, client_for):
    client = client_for(world.partner)
    payload = upload(client, GOOD).context["payload"]
    with operator_scope():
        services.msp_create(
            actor=world.partner, legal_name="Lone Star Networks", city="Dallas", region="TX", country="US"
        )
    response = client.post(reverse("directory:msp_import"), {"payload": payload, "confirm": "1"}, follow=True)
    assert "directory changed since the preview" in response.content.decode()
    assert "Harbour IT" not in directory_names()


def test_a_tampered_preview_is_refused(world, client_for):
    client = client_for(world.partner)
    response = client.post(reverse("directory:msp_import"), {"payload": "forged", "confirm": "1"}, follow=True)
    assert "expired" in response.content.decode()


def test_oversized_file(world, client_for, monkeypatch):
    client = client_for(world.partner)
    big = HEADER + ("Filler IT,Austin,TX,US,,10,5,,,,,,,,,\n" * (2 * 1024 * 1024 // 38 + 10))
    assert len(big.encode()) > imports.MAX_BYTES
    response = upload(client, big)
    assert response.status_code == 400
    assert "the limit is 2 MB" in response.content.decode()


def test_too_many_rows(world, client_for, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = "".join(f"Row {i} IT,Austin,TX,US,,10,5,,,,,,,,,\n" for i in range(4))
    response = upload(client_for(world.partner), HEADER + rows)
    assert response.status_code == 400
    assert "more than 3 rows" in response.content.decode()


def test_not_utf8_and_empty_files(world, client_for):
    client = client_for(world.partner)
    assert "not UTF-8" in upload(client, "legal_name,city\nCafé,Québec\n".encode("latin-1")).content.decode()
    assert "The file is empty" in upload(client, "").content.decode() or "empty" in upload(client, "").content.decode()
    assert "no MSP rows" in upload(client, HEADER).content.decode()


def test_only_partners_import(world, client_for):
    assert upload(client_for(world.a.vendor_admin), GOOD).status_code == 403
    assert upload(client_for(world.finance), GOOD).status_code == 403


# --- Export


@pytest.mark.parametrize(
    "value,expected",
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("Plain", "Plain"),
        (42, "42"),
        (None, ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_export_neutralises_formulas_and_round_trips(world, client_for):
    with operator_scope():
        services.msp_create(
            actor=world.partner,
            legal_name="=cmd|' /C calc'!A0",
            city="@Home",
            region="TX",
            country="US",
            notes="+danger",
            verticals=["legal"],
            contacts=[{"name": "-Minus", "email": "minus@example.com"}],
        )
    response = client_for(world.partner).get(reverse("directory:msp_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    evil = next(r for r in rows if "calc" in r["legal_name"])
    assert evil["legal_name"] == "'=cmd|' /C calc'!A0"
    assert evil["city"] == "'@Home"
    assert evil["notes"] == "'+danger"
    assert evil["contact_name"] == "'-Minus"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    marlin = next(r for r in rows if r["legal_name"] == "Marlinspike MSP")
    assert marlin["verticals"] == "healthcare; legal" and marlin["relationship"] == "none"
    # The export imports again as updates of the same MSPs.
    with operator_scope():
        preview = read_import(response.content.decode())
    assert (preview.creates, preview.updates, preview.error_count) == (0, len(rows), 0)


def test_export_follows_the_filters(world, client_for):
    body = client_for(world.partner).get(reverse("directory:msp_export"), {"q": "Quokka"}).content.decode()
    assert "Quokkadale MSP" in body and "Marlinspike" not in body

"""Reading a CSV import (validate every row against the file and the directory) and the CSV export.

The import itself, and its preview, are ``services.msp_import`` (a preview is its dry run).

Row numbers are the ones a spreadsheet shows: the header is row 1, the first MSP is row 2.
An empty cell gives no value: a new MSP gets the default, an existing one keeps what it has.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from tmw.web import FORMULA_START, csv_cell

from .models import (
    CONTACT_FIELDS,
    LIST_FIELDS,
    PROFILE_FIELDS,
    REGION_NAMES,
    REGIONS,
    MSPContact,
    MSPProfile,
    Relationship,
    website_host,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

REQUIRED_COLUMNS = ("legal_name", "city", "region", "country")
# The profile's fields, then its primary contact's (``contact_name`` ...); an export has these columns.
CONTACT_COLUMNS = tuple(f"contact_{name}" for name in CONTACT_FIELDS if name != "is_primary")
COLUMNS = (*PROFILE_FIELDS, *CONTACT_COLUMNS)
ALIASES = {
    "name": "legal_name",
    "msp": "legal_name",
    "hq_city": "city",
    "state": "region",
    "province": "region",
    "state_province": "region",
    "state/province": "region",
    "psa": "psa_tools",
    "rmm": "rmm_tools",
    "managed_endpoints": "endpoints",
    "number_of_clients": "clients",
    "pe": "pe_backed",
    "community": "community_member",
    "relationship_strength": "relationship",
    "platform": "platform_name",
}
NUMBER_COLUMNS = ("employees", "technicians", "endpoints", "clients")
BOOL_COLUMNS = ("pe_backed", "community_member")
TRUE = {"yes", "y", "true", "1", "x"}
FALSE = {"no", "n", "false", "0", ""}
COUNTRIES = {"us": "US", "usa": "US", "united states": "US", "ca": "CA", "can": "CA", "canada": "CA"}
PROVINCE_BY_NAME = {name.lower(): code for code, name in REGION_NAMES.items()}
RELATIONSHIPS = {label.lower(): value for value, label in Relationship.choices} | {
    "aware": Relationship.AWARE,
    **{str(v): v for v in Relationship.values},
}


class ImportFileError(Exception):
    """The file as a whole cannot be read: too big, not CSV, not UTF-8, missing columns, too many rows."""


@dataclass
class ImportRow:
    """One CSV row: the values it gives, its errors by column, and the directory MSP it would update."""

    number: int
    raw: dict[str, str]
    data: dict = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    existing_pk: int | None = None
    existing_name: str = ""

    @property
    def action(self) -> str:
        return "update" if self.existing_pk else "create"


@dataclass
class ImportPreview:
    """What an import does or would do: every row with its errors, ignored columns, and what was written.

    ``created`` and ``updated`` are filled by ``services.msp_import``: on a dry run, what the import
    would create and update; on a real run, what it did.
    """

    rows: list[ImportRow]
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = True
    created: int = 0
    updated: int = 0

    @property
    def plan(self) -> list[int | None]:
        """Per row, the directory MSP it updates (None creates one): what a confirmed preview promised."""
        return [row.existing_pk for row in self.rows]

    @property
    def summary(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated}

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows)

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.error_count

    @property
    def creates(self) -> int:
        return sum(1 for r in self.rows if r.action == "create" and not r.errors)

    @property
    def updates(self) -> int:
        return sum(1 for r in self.rows if r.action == "update" and not r.errors)


def _choice_aliases(choices) -> dict[str, str]:
    aliases: dict[str, str] = {}
    first_words: dict[str, list[str]] = {}
    for value, label in choices.choices:
        aliases[value.lower()] = value
        aliases[label.lower()] = value
        aliases[label.lower().replace(" ", "")] = value
        first_words.setdefault(label.split()[0].lower(), []).append(value)
    for word, values in first_words.items():
        if len(values) == 1:
            aliases.setdefault(word, values[0])
    aliases.update({"mdr": "soc_mdr", "soc": "soc_mdr", "backup": "backup_dr", "ai": "ai_automation"})
    return {k: v for k, v in aliases.items() if v in choices.values}


LIST_ALIASES = {name: _choice_aliases(choices) for name, (choices, _p) in LIST_FIELDS.items()}


def _header(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def decode(content: bytes) -> str:
    """The file's text; refuses oversized and non-UTF-8 files."""
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            f"The file is {len(content) / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB."
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text; save it as CSV UTF-8 and upload it again.") from exc


def _directory_index() -> tuple[dict[tuple[str, str], tuple[int, str]], dict[str, tuple[int, str]]]:
    """Existing MSPs by (legal name, city) and by website host: one query."""
    by_name: dict[tuple[str, str], tuple[int, str]] = {}
    by_site: dict[str, tuple[int, str]] = {}
    # unscoped: unique (the check must see every tenant's rows)
    for pk, name, city, website in MSPProfile.all_objects.values_list("pk", "legal_name", "city", "website"):
        by_name[(name.strip().lower(), city.strip().lower())] = (pk, name)
        host = website_host(website)
        if host:
            by_site[host] = (pk, name)
    return by_name, by_site


def read_import(text: str) -> ImportPreview:
    """Parse and validate every row of a CSV text, writing nothing; raises ImportFileError for an unusable file."""
    if len(text.encode()) > MAX_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ImportFileError("The file is empty.") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV: {exc}.") from exc
    columns = [_header(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileError(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    ignored = [h for h, c in zip(header, columns, strict=True) if c not in COLUMNS]
    by_name, by_site = _directory_index()
    rows: list[ImportRow] = []
    seen_name: dict[tuple[str, str], int] = {}
    seen_site: dict[str, int] = {}
    try:
        for index, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows; split it and import each part.")
            raw = {c: _unquote(values[i]) if i < len(values) else "" for i, c in enumerate(columns) if c in COLUMNS}
            row = _validate_row(index, raw, extra_cells=len(values) > len(columns))
            if "legal_name" in row.data and "city" in row.data:
                key = (row.data["legal_name"].lower(), row.data["city"].lower())
                host = website_host(row.data.get("website", ""))
                if key in seen_name:
                    row.errors.append(("legal_name", f"duplicate of row {seen_name[key]} (same legal name and city)"))
                elif host and host in seen_site:
                    row.errors.append(("website", f"duplicate of row {seen_site[host]} (same website)"))
                seen_name.setdefault(key, index)
                if host:
                    seen_site.setdefault(host, index)
                match = by_name.get(key) or (by_site.get(host) if host else None)
                if match:
                    row.existing_pk, row.existing_name = match
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near row {reader.line_num}: {exc}.") from exc
    if not rows:
        raise ImportFileError("The file has a header but no MSP rows.")
    return ImportPreview(rows=rows, ignored_columns=ignored)


def _unquote(cell: str) -> str:
    """A cell without surrounding spaces and without the quote an export put before a formula character."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START:
        cell = cell[1:]
    return cell.strip()


def _validate_row(number: int, raw: dict[str, str], *, extra_cells: bool) -> ImportRow:
    row = ImportRow(number=number, raw=raw)
    data, errors = row.data, row.errors
    if extra_cells:
        errors.append(("", "more cells than the header has columns"))
    for column in ("legal_name", "city"):
        if not raw.get(column):
            errors.append((column, "required"))
        else:
            data[column] = raw[column]
    country = COUNTRIES.get(raw.get("country", "").lower())
    if not raw.get("country"):
        errors.append(("country", "required"))
    elif country is None:
        errors.append(("country", f"unknown country “{raw['country']}”: use US or CA"))
    else:
        data["country"] = country
    region_raw = raw.get("region", "")
    region = PROVINCE_BY_NAME.get(region_raw.lower(), region_raw.upper())
    if not region_raw:
        errors.append(("region", "required"))
    elif country and region not in REGIONS[country]:
        word = "province" if country == "CA" else "state"
        errors.append(("region", f"“{region_raw}” is not a {word} of {country}"))
    else:
        data["region"] = region
    website = raw.get("website", "")
    if website:
        url = website if "//" in website else f"https://{website}"
        try:
            URLValidator(schemes=["http", "https"])(url)
            data["website"] = url
        except ValidationError:
            errors.append(("website", f"“{website}” is not a web address"))
    for column in NUMBER_COLUMNS:
        value = raw.get(column, "").replace(",", "").replace(" ", "")
        if not value:
            continue
        if not value.isdigit():
            errors.append((column, f"“{raw[column]}” is not a whole number"))
        elif int(value) > 10_000_000:
            errors.append((column, f"{raw[column]} is too large"))
        else:
            data[column] = int(value)
    for column in LIST_FIELDS:
        if not raw.get(column):
            continue
        items = [v.strip() for v in raw.get(column, "").replace("|", ";").split(";") if v.strip()]
        known: list[str] = []
        unknown: list[str] = []
        for item in items:
            alias = LIST_ALIASES[column].get(item.lower())
            (known if alias else unknown).append(alias or item)
        if unknown:
            errors.append((column, f"unknown: {', '.join(unknown)}"))
        data[column] = list(dict.fromkeys(known))
    for column in BOOL_COLUMNS:
        if not raw.get(column):
            continue
        value = raw[column].lower()
        if value in TRUE:
            data[column] = True
        elif value in FALSE:
            data[column] = False
        else:
            errors.append((column, f"“{raw[column]}” is not yes or no"))
    relationship = raw.get("relationship", "").lower()
    if relationship:
        if relationship in RELATIONSHIPS:
            data["relationship"] = int(RELATIONSHIPS[relationship])
        else:
            errors.append(("relationship", f"“{raw['relationship']}” is not none, aware, warm or strong"))
    for column in ("platform_name", "notes"):
        if raw.get(column):
            data[column] = raw[column]
    if raw.get("contact_name"):
        contact: dict[str, str | bool] = {
            "name": raw["contact_name"],
            "title": raw.get("contact_title", ""),
            "email": raw.get("contact_email", ""),
            "phone": raw.get("contact_phone", ""),
            "is_primary": True,
        }
        if raw.get("contact_email"):
            try:
                EmailValidator()(raw["contact_email"])
            except ValidationError:
                errors.append(("contact_email", f"“{contact['email']}” is not an email address"))
        data["contact"] = contact
    elif any(raw.get(c) for c in ("contact_title", "contact_email", "contact_phone")):
        errors.append(("contact_name", "required when other contact columns are filled"))
    for column, limit in (("legal_name", 200), ("city", 120), ("platform_name", 200)):
        if len(raw.get(column, "")) > limit:
            errors.append((column, f"longer than {limit} characters"))
    return row


# --- Export


def write_csv(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    """CSV text with every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def _export_cell(name: str, value: object) -> object:
    """A profile value as the import reads it back: lists joined by "; ", yes/no, relationship by name."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if name == "relationship":
        return Relationship(int(str(value))).label.lower() if value in Relationship.values else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def directory_csv(profiles: Iterable[MSPProfile], contacts: Mapping[int, MSPContact] | None = None) -> str:
    """The directory as CSV in the import format (a file exported can be imported again)."""
    contacts = contacts or {}

    def cells(p: MSPProfile) -> list[object]:
        c = contacts.get(p.pk)
        return [_export_cell(name, getattr(p, name)) for name in PROFILE_FIELDS] + [
            getattr(c, column.removeprefix("contact_"), "") for column in CONTACT_COLUMNS
        ]

    return write_csv(COLUMNS, (cells(p) for p in profiles))

"""Benchmark: score 20,000 MSPs against one ideal-partner profile.

Run it from the project root:

    DEBUG=1 .venv/bin/python bench/target_scoring.py [--msps 20000] [--repeat 5]

It uses its own throwaway SQLite file unless DATABASE_URL is set, creates the MSPs, then
times, in the same run:

- the floor: one plain SQL query reading the same columns of the same rows;
- scoring: the real code path, ``directory_rows()`` + ``score_rows()`` (what
  ``target_list_build`` runs before it saves the top of the list);
- the whole ``target_list_build`` service (scoring plus saving a snapshot), for information.

Goal: scoring under 1 s and within 5x of the floor. Timings are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> str | None:
    """Configure Django on a throwaway SQLite file unless DATABASE_URL is given; returns the file to delete."""
    throwaway = None
    if not os.environ.get("DATABASE_URL"):
        fd, throwaway = tempfile.mkstemp(prefix="bench-target-scoring-", suffix=".sqlite3")
        os.close(fd)
        os.environ["DATABASE_URL"] = f"sqlite:///{throwaway}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmw.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
    import django
    from django.conf import settings

    django.setup()
    # Build tables straight from the models: the benchmark does not depend on migration files.
    from django.apps import apps

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    return throwaway


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def build_directory(n: int, prefix: str) -> None:
    """Create ``n`` MSP organisations with varied profiles, in bulk."""
    from tmw.accounts.models import Organisation
    from tmw.directory.models import REGIONS, MSPProfile, PSATool, RMMTool, ServiceLine, Vertical

    rng = random.Random(20000)
    orgs = [
        Organisation(kind=Organisation.Kind.MSP, name=f"{prefix} MSP {i:05d}", slug=f"{prefix}-msp-{i:05d}")
        for i in range(n)
    ]
    Organisation.objects.bulk_create(orgs, batch_size=1000)
    orgs = list(Organisation.objects.filter(slug__startswith=f"{prefix}-msp-").order_by("pk"))
    profiles = []
    for org in orgs:
        country = "US" if rng.random() < 0.8 else "CA"
        employees = rng.randint(4, 400)
        profile = MSPProfile(
            organisation=org,
            legal_name=org.name,
            city=f"City {rng.randint(1, 400)}",
            region=rng.choice(REGIONS[country]),
            country=country,
            employees=employees,
            technicians=max(1, int(employees * rng.uniform(0.4, 0.7))),
            endpoints=rng.randint(200, 40000),
            clients=rng.randint(5, 600),
            verticals=rng.sample(Vertical.values, rng.randint(0, 3)),
            service_lines=rng.sample(ServiceLine.values, rng.randint(1, 5)),
            psa_tools=rng.sample(PSATool.values, 1),
            rmm_tools=rng.sample(RMMTool.values, 1),
            pe_backed=rng.random() < 0.2,
            community_member=rng.random() < 0.3,
            relationship=rng.randint(0, 3),
        )
        profile.tag_index = profile.build_tag_index()
        profiles.append(profile)
    MSPProfile.objects.bulk_create(profiles, batch_size=1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--msps", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    throwaway = setup_django()
    try:
        run(args.msps, args.repeat)
    finally:
        if throwaway:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(throwaway + suffix).unlink(missing_ok=True)


def run(n: int, repeat: int) -> None:
    from django.db import connection

    from diagnostics.models import TargetList
    from diagnostics.scoring import ROW_FIELDS, score_rows
    from diagnostics.selectors import directory_rows
    from diagnostics.services import diagnostic_start, ideal_partner_profile_update, target_list_build
    from tmw.accounts.models import Organisation, Role, User
    from tmw.accounts.tenancy import operator_scope
    from tmw.directory.models import MSPProfile

    prefix = f"bench{random.randint(1000, 9999)}"
    with operator_scope():
        start = time.perf_counter()
        build_directory(n, prefix)
        print(f"Created {n:,} MSPs in {time.perf_counter() - start:.1f} s ({connection.vendor}).")
        operator = Organisation.objects.create(kind="operator", name=f"{prefix} TMW", slug=f"{prefix}-tmw")
        vendor = Organisation.objects.create(
            kind="vendor", name=f"{prefix} Vendor", slug=f"{prefix}-vendor", category="Backup and disaster recovery"
        )
        partner = User.objects.create_user(f"{prefix}@bench.example", "x", organisation=operator, role=Role.PARTNER)
        diagnostic = diagnostic_start(vendor=vendor, lead_partner=partner, actor=partner)
        profile = ideal_partner_profile_update(
            diagnostic=diagnostic,
            actor=partner,
            countries=["US", "CA"],
            regions=["TX", "FL", "ON", "BC"],
            min_technicians=10,
            max_technicians=80,
            min_endpoints=2000,
            max_endpoints=20000,
            verticals=["healthcare", "legal", "financial"],
            required_service_lines=["managed_it"],
            preferred_service_lines=["backup_dr", "soc_mdr", "compliance"],
            psa_integrations=["connectwise_psa", "autotask", "halopsa"],
            rmm_integrations=["ninjaone", "datto_rmm"],
            pe_preference="avoid",
        )
        spec = profile.as_spec()

        table = MSPProfile._meta.db_table
        columns = ", ".join(connection.ops.quote_name("organisation_id" if f == "pk" else f) for f in ROW_FIELDS)
        sql = f"SELECT {columns} FROM {connection.ops.quote_name(table)}"  # noqa: S608 (fixed names)

        def floor():
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()

        def scoring():
            return score_rows(spec, directory_rows())

        floor_s, rows = best_of(repeat, floor)
        score_s, scored = best_of(repeat, scoring)
        build_s, target_list = best_of(min(repeat, 3), lambda: target_list_build(diagnostic=diagnostic, actor=partner))
        entries = target_list.entries.count()
        assert len(rows) >= n and len(scored) == len(rows), "the scorer must see every row the floor reads"
        tiers = {t: sum(1 for s in scored if s.tier == t) for t in "ABC"}

        ratio = score_s / floor_s
        print(f"Rows read: {len(rows):,}; tiers A/B/C: {tiers['A']:,}/{tiers['B']:,}/{tiers['C']:,}")
        print(f"Floor (plain SQL read of the same rows):  {floor_s * 1000:8.1f} ms")
        print(f"Scoring (directory_rows + score_rows):    {score_s * 1000:8.1f} ms   ratio {ratio:.2f}x floor")
        print(
            f"target_list_build (score + save top {entries}): {build_s * 1000:8.1f} ms   "
            f"ratio {build_s / floor_s:.2f}x floor"
        )
        ok = score_s < 1.0 and ratio <= 5.0
        print(f"Goal (scoring < 1 s and <= 5x floor): {'met' if ok else 'NOT met'}")

        if not os.environ.get("DATABASE_URL", "").startswith("sqlite:///") or "bench-target-scoring-" not in (
            os.environ.get("DATABASE_URL", "")
        ):
            # A shared database: remove what the run created.
            TargetList.objects.filter(diagnostic=diagnostic).delete()
            MSPProfile.objects.filter(organisation__slug__startswith=f"{prefix}-msp-").delete()


if __name__ == "__main__":
    main()

"""The statement PDF: it renders, says the number, period and total, and fetches nothing outside static files."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest

from commissions import services
from commissions.models import AgreementTerms, Statement
from commissions.pdf import money, percent, render_statement_pdf, statement_context
from tmw.accounts.policy import SYSTEM
from tmw.accounts.tenancy import operator_scope
from tmw.pdf import SafeURLFetcher


def pdf_text(content: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "statement.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def issue(world, statement: Statement) -> Statement:
    with operator_scope():
        statement = services.statement_approve(statement=statement, actor=world.finance)
        return services.statement_issue(statement=statement, actor=world.finance)


def test_money_and_percent_formats():
    assert money(Decimal("1234.5")) == "1,234.50"
    assert money(Decimal("-15")) == "-15.00"
    assert percent(Decimal("0.15")) == "15%"
    assert percent(Decimal("0.125")) == "12.5%"
    assert percent(None) == ""


def test_issued_statement_pdf_says_number_period_total_and_remittance(world, tmp_path):
    statement = issue(world, world.a.objects[Statement])
    with operator_scope():
        fetcher = SafeURLFetcher()
        filename, content_type, content = render_statement_pdf(statement, fetcher=fetcher)
    assert content_type == "application/pdf" and content.startswith(b"%PDF")
    assert filename.startswith(statement.number) and filename.endswith(".pdf")
    assert fetcher.refused == []
    text = pdf_text(content, tmp_path)
    assert statement.number in text
    assert f"{statement.period:%B %Y}" in text
    assert f"USD {money(statement.total)}" in text
    assert "REMITTANCE" in text.upper() and "Due date (net 30)" in text
    assert world.a.vendor.name in text and "The MSP Works" in text
    assert "DRAFT" not in text
    assert "Page 1 of" in text


def test_draft_preview_is_watermarked_and_unnumbered(world, tmp_path):
    statement = world.a.objects[Statement]
    with operator_scope():
        _name, _type, content = render_statement_pdf(statement)
    text = pdf_text(content, tmp_path)
    assert "DRAFT" in text and "not yet numbered" in text
    assert money(statement.total) in text


def test_equity_note_shows_accrual_and_running_principal(world, tmp_path):
    statement = world.a.objects[Statement]
    with operator_scope():
        AgreementTerms.all_objects.filter(agreement=statement.agreement).update(
            equity_kind="convertible",
            equity_share=Decimal("0.4"),
            principal=Decimal("100000.00"),
            valuation_cap=Decimal("12000000.00"),
            discount=Decimal("0.2"),
        )
        statement = services.statement_generate(agreement=statement.agreement, period=statement.period, actor=SYSTEM)
        context = statement_context(statement)
        _name, _type, content = render_statement_pdf(statement)
    assert statement.equity_total > 0
    assert context["equity"]["accrued"] == f"USD {money(statement.equity_total)}"
    expected_principal = Decimal("100000.00") + statement.equity_total
    assert context["equity"]["running_principal"] == f"USD {money(expected_principal)}"
    text = pdf_text(content, tmp_path)
    assert "Equity note" in text and money(expected_principal) in text
    assert "Amount due in cash" in text and money(statement.cash_total) in text


def test_rendering_fetches_nothing_outside_static_even_with_hostile_names(world, tmp_path):
    statement = world.a.objects[Statement]
    hostile = '<img src="http://169.254.169.254/latest/meta-data/"><link rel=stylesheet href="file:///etc/passwd">'
    with operator_scope():
        statement.vendor.name = hostile
        statement.vendor.save(update_fields=["name"])
        statement.lines.update(description=hostile)
        fetcher = SafeURLFetcher()
        _name, _type, content = render_statement_pdf(Statement.all_objects.get(pk=statement.pk), fetcher=fetcher)
    assert fetcher.refused == []  # escaped text, never markup: nothing was even requested
    assert "169.254.169.254" in pdf_text(content, tmp_path)


def test_a_long_statement_runs_over_pages_with_page_numbers(world, tmp_path):
    from commissions.models import StatementLine

    statement = world.a.objects[Statement]
    with operator_scope():
        line = statement.lines.get(kind="revenue_share")
        StatementLine.all_objects.bulk_create(
            [
                StatementLine(
                    statement=statement,
                    kind="revenue_share",
                    description=f"Account {i}",
                    revenue=Decimal("1000"),
                    account_year=1,
                    rate=Decimal("0.15"),
                    amount=Decimal("150.00"),
                    order=line.order + i,
                )
                for i in range(1, 60)
            ]
        )
        _name, _type, content = render_statement_pdf(statement)
    text = pdf_text(content, tmp_path)
    assert "Page 2 of" in text

"""Demo data loads, prints the logins, and running it twice doubles nothing."""

from io import StringIO

from django.apps import apps
from django.core.management import call_command

from tmw.accounts.demo import DEMO_PASSWORD
from tmw.accounts.models import Organisation, User
from tmw.accounts.tenancy import operator_scope


def _counts():
    with operator_scope():
        return {m._meta.label: m._base_manager.count() for m in apps.get_models() if m._meta.app_label != "sessions"}


def test_seed_demo_is_idempotent_and_prints_logins(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for role in ("TMW partner", "TMW finance", "TMW admin", "Vendor admin", "MSP member"):
        assert role in text
    with operator_scope():
        assert Organisation.objects.filter(kind="vendor").count() == 3
        assert Organisation.objects.filter(kind="msp").count() == 50
        assert set(Organisation.objects.filter(kind="msp").values_list("country", flat=True)) == {"US", "CA"}
    assert User.objects.filter(role="msp_member").count() == 50
    partner = User.objects.get(email="dana.whitfield@themspworks.example")
    assert partner.check_password(DEMO_PASSWORD)


def test_demo_commercial_terms_issue_past_months_and_leave_last_month_to_a_finished_run(db):
    from commissions.models import Agreement, Statement, StatementRun
    from commissions.selectors import previous_month

    call_command("seed_demo", stdout=StringIO())
    last = previous_month()
    with operator_scope():
        agreements = list(Agreement.objects.select_related("vendor"))
        assert {a.currency for a in agreements} == {"USD", "CAD"}
        assert any(a.current_terms.equity_share for a in agreements)
        drafts = Statement.objects.filter(period=last)
        assert drafts.count() == len(agreements) and {s.status for s in drafts} == {"draft"}
        run = StatementRun.objects.get(period=last)
        assert (run.status, run.done, run.failed, run.total) == ("done", len(agreements), 0, len(agreements))
        assert {s.run_id for s in drafts} == {run.pk}
        earlier = Statement.objects.filter(period__lt=last)
        assert earlier.count() >= 2 * 11 - 4 and {s.status for s in earlier} <= {"issued", "paid"}
        assert earlier.filter(status="paid").exists() and earlier.filter(status="issued").exists()
        assert all(s.number.startswith("TMW-") for s in earlier)
        # One cheque recorded on the first desk's last issued statement bounced: reversed, listed, not counted.
        from commissions.models import Payment

        reversed_payment = Payment.objects.select_related("statement").get(reversed_at__isnull=False)
        assert reversed_payment.reversal_reason.startswith("The cheque bounced")
        assert reversed_payment.statement.status == "issued"
        assert reversed_payment.statement.balance == reversed_payment.statement.cash_total

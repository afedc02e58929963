"""The accounting export settings: the ledger account of each line kind and the tax codes (finance)."""

from __future__ import annotations

from django.db import transaction

from commissions.models import AccountingSettings
from commissions.services._common import Actor, _validate
from tmw.accounts import policy
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError

__all__ = ["ACCOUNT_FIELDS", "TAX_CODE_FIELDS", "accounting_settings_save"]

ACCOUNT_FIELDS = (
    "retainer_account",
    "revenue_share_account",
    "tail_account",
    "adjustment_account",
    "tax_account",
    "equity_asset_account",
    "equity_income_account",
)
TAX_CODE_FIELDS = ("qbo_tax_code", "xero_tax_type")


@transaction.atomic
def accounting_settings_save(*, actor: Actor, **values: str) -> AccountingSettings:
    """Set the ledger accounts and tax codes of the accounting exports; fields left out keep their value.

    An account code is one word (no spaces) and never empty; a tax code is not empty. A refusal names
    the field and writes nothing.
    """
    policy.require(actor, "accounting.manage", "change the accounting export settings")
    unknown = sorted(set(values) - set(ACCOUNT_FIELDS) - set(TAX_CODE_FIELDS))
    if unknown:
        raise ApplicationError(
            f"Unknown setting: {', '.join(unknown)}.", extra={name: ["Unknown."] for name in unknown}
        )
    # One operator-owned row (not tenant data), locked while it changes.
    settings = AccountingSettings.objects.select_for_update().filter(pk=1).first() or AccountingSettings(pk=1)
    for name, value in values.items():
        text = "" if value is None else str(value)
        label = getattr(AccountingSettings._meta.get_field(name), "verbose_name", name)
        if name in ACCOUNT_FIELDS:
            if not text.strip():
                raise ApplicationError(f"{str(label).capitalize()}: give an account code.", extra={name: ["Required."]})
            if any(c.isspace() for c in text):
                raise ApplicationError(
                    f"{str(label).capitalize()}: an account code has no spaces.", extra={name: ["No spaces."]}
                )
        else:
            text = text.strip()
            if not text:
                raise ApplicationError(f"{str(label).capitalize()}: give a tax code.", extra={name: ["Required."]})
        setattr(settings, name, text)
    settings.updated_by = policy.user_of(actor)
    _validate(settings)
    settings.save()
    audit_record(
        actor=policy.user_of(actor),
        verb="accounting.settings_saved",
        obj=settings,
        data={name: getattr(settings, name) for name in (*ACCOUNT_FIELDS, *TAX_CODE_FIELDS)},
    )
    return settings

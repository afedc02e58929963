"""Widen statement totals and line amounts to 18 digits: they add up inputs of up to 1,000,000,000.00 each."""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statement",
            name="total",
            field=models.DecimalField(
                decimal_places=2, default=Decimal("0"), help_text="Sum of the lines.", max_digits=18
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="equity_total",
            field=models.DecimalField(
                decimal_places=2, default=Decimal("0"), help_text="Sum of the equity accrual lines.", max_digits=18
            ),
        ),
        migrations.AlterField(
            model_name="statementline",
            name="revenue",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True),
        ),
        migrations.AlterField(
            model_name="statementline",
            name="amount",
            field=models.DecimalField(decimal_places=2, max_digits=18),
        ),
    ]

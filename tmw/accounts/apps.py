from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, organisations, roles and tenant scoping: the ground floor."""

    name = "tmw.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from tmw import pagecache, sql

        pagecache.install()
        sql.install()

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Clinic members"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 - connects the sign-in/sign-out receivers
        from config.security import redact_daphne_access_log

        redact_daphne_access_log()

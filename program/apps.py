from django.apps import AppConfig
from django.core.checks import register

from program.checks import mail_configured
from rooms.extensions import dashboard_sections, demo_seeders, register_duty


class ProgramConfig(AppConfig):
    name = "program"
    verbose_name = "Program"

    def ready(self) -> None:
        # The duty's module imports models: not before the apps are ready.
        from program.dashboard import program_section
        from program.demo import seed_program
        from program.reminders import REMINDER_DUTY

        register_duty(REMINDER_DUTY)
        dashboard_sections.register("program", program_section)
        demo_seeders.register("program", seed_program)
        register(mail_configured)

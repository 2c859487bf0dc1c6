from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "record"
    verbose_name = "Clinical record"

    def ready(self) -> None:
        # What is registered here imports models: not before the apps are ready.
        from record import frame_handlers
        from record.dashboard import record_section
        from record.retention import purge_expired_records
        from record.state import goals_state
        from rooms.extensions import dashboard_sections, retention_hooks, state_contributors

        frame_handlers.handlers.register()
        state_contributors.register("record.goals", goals_state)
        retention_hooks.register("record", purge_expired_records)
        dashboard_sections.register("record", record_section)

from django.contrib import admin

from rooms.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log is append-only: clinic staff can read it, nobody can change it here."""

    list_display = ("created_at", "session", "actor_label", "action", "target_label", "reason")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label", "reason")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

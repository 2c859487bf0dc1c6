from django.contrib import admin

from facilitator.models import AgendaItem, Attendance
from rooms.models import Prompt


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("text", "category", "active", "position", "session")
    list_filter = ("category", "active", ("session", admin.EmptyFieldListFilter))
    list_editable = ("active", "position")
    search_fields = ("text",)


@admin.register(AgendaItem)
class AgendaItemAdmin(admin.ModelAdmin):
    list_display = ("session", "position", "prompt", "posted_at")
    list_filter = ("session",)
    ordering = ("session", "position")
    raw_id_fields = ("session", "prompt")


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    """Read-only: attendance is written by the room's presence, and kept as it happened."""

    list_display = ("session", "participant", "joined_at", "left_at")
    list_filter = ("session",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

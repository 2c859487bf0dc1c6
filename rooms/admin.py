from django.contrib import admin

from rooms.models import GroupSession, GuestPass, Message, Participant


class ParticipantInline(admin.TabularInline):
    model = Participant
    fk_name = "session"
    extra = 0
    fields = ("display_name", "role", "member", "roster_position", "admitted", "muted", "removed_at")
    readonly_fields = ("removed_at",)


@admin.register(GroupSession)
class GroupSessionAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "starts_at", "duration_minutes", "status", "mode", "allow_guests")
    list_filter = ("status", "kind", "allow_guests")
    search_fields = ("title",)
    readonly_fields = ("last_seq", "started_at", "ended_at", "floor_holder", "floor_expires_at", "floor_granted_at")
    inlines = [ParticipantInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: messages are changed only through moderation actions, which are audited."""

    list_display = ("session", "seq", "participant", "sent_at", "audience", "removed_at")
    list_filter = ("audience",)
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GuestPass)
class GuestPassAdmin(admin.ModelAdmin):
    list_display = ("session", "name", "for_participant", "created_at", "redeemed_at", "revoked_at", "declined")
    readonly_fields = ("token_hash",)

from django.contrib import admin

from facilitator.models import Prompt


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("text", "category", "active", "position", "session")
    list_filter = ("category", "active", ("session", admin.EmptyFieldListFilter))
    list_editable = ("active", "position")
    search_fields = ("text",)

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import Member


@admin.register(Member)
class MemberAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name")
    fieldsets = (*UserAdmin.fieldsets, ("Circle", {"fields": ("role", "display_name")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Circle", {"fields": ("role", "display_name")}))

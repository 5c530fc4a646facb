"""Staff moderation of playlists: find them by name or owner, remove entries or whole playlists."""

from django.contrib import admin

from playlists.models import Playlist, PlaylistVideo


class PlaylistVideoInline(admin.TabularInline):
    model = PlaylistVideo
    extra = 0
    raw_id_fields = ["video"]
    readonly_fields = ["added_at"]
    ordering = ["added_at"]


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "visibility", "created_at", "updated_at"]
    list_filter = ["visibility"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [PlaylistVideoInline]

"""Staff moderation of videos: find, change visibility or schedule, delete (media files too).

Saves and publishing go through ``videos.services`` (so cached pages follow). Deleting a video
cascades into other apps, so ``ops.admin`` registers this class with the cross-app delete.
"""

from django.contrib import admin, messages

from videos import services
from viztube.models import Visibility


class ScheduledFilter(admin.SimpleListFilter):
    """The videos waiting for their ``publish_at`` (read from the partial index of schedules)."""

    title = "scheduled"
    parameter_name = "scheduled"

    def lookups(self, request, model_admin):
        return (("yes", "Scheduled"), ("no", "Not scheduled"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(publish_at__isnull=self.value() == "no")
        return queryset


class VideoAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "views", "visibility", "status", "publish_at", "created_at")
    # One JOIN instead of one owner query per row.
    list_select_related = ("owner",)
    list_filter = ("visibility", "status", ScheduledFilter, "created_at")
    search_fields = ("title", "owner__username")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    raw_id_fields = ("owner",)
    # Media are replaced only through the API, which validates them and deletes old files; the
    # status only by the processing pipeline (an owner reprocesses a failed video).
    readonly_fields = (
        "status",
        "failure_reason",
        "streaming_url",
        "video_file",
        "thumbnail",
        "duration",
        "views",
        "likes_count",
        "comments_count",
        "published_at",
        "created_at",
        "updated_at",
    )
    fields = (
        "owner",
        "title",
        "description",
        "visibility",
        "publish_at",
        *readonly_fields,
    )
    actions = ("make_public", "make_unlisted", "make_private")

    def _set_visibility(self, request, queryset, visibility):
        changed = services.video_set_visibility(videos=queryset, visibility=visibility)
        self.message_user(request, f"{changed} video(s) made {visibility}.", messages.SUCCESS)

    @admin.action(description="Make selected videos public")
    def make_public(self, request, queryset):
        self._set_visibility(request, queryset, Visibility.PUBLIC)

    @admin.action(description="Make selected videos unlisted")
    def make_unlisted(self, request, queryset):
        self._set_visibility(request, queryset, Visibility.UNLISTED)

    @admin.action(description="Make selected videos private")
    def make_private(self, request, queryset):
        self._set_visibility(request, queryset, Visibility.PRIVATE)

    def save_model(self, request, obj, form, change):
        services.video_save_by_staff(video=obj)

"""Staff moderation of videos: find, publish/unpublish, delete (media files too).

Saves and publishing go through ``videos.services`` (so cached pages follow). Deleting a video
cascades into other apps, so ``ops.admin`` registers this class with the cross-app delete.
"""

from django.contrib import admin, messages

from videos import services


class VideoAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "views", "is_published", "created_at")
    # One JOIN instead of one owner query per row.
    list_select_related = ("owner",)
    list_filter = ("is_published", "created_at")
    search_fields = ("title", "owner__username")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    raw_id_fields = ("owner",)
    # Media are replaced only through the API, which validates them and deletes old files.
    readonly_fields = (
        "video_file",
        "thumbnail",
        "duration",
        "views",
        "likes_count",
        "comments_count",
        "created_at",
        "updated_at",
    )
    fields = (
        "owner",
        "title",
        "description",
        "is_published",
        *readonly_fields,
    )
    actions = ("publish_videos", "unpublish_videos")

    @admin.action(description="Publish selected videos")
    def publish_videos(self, request, queryset):
        changed = services.video_set_published(videos=queryset, published=True)
        self.message_user(request, f"{changed} video(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish selected videos")
    def unpublish_videos(self, request, queryset):
        changed = services.video_set_published(videos=queryset, published=False)
        self.message_user(request, f"{changed} video(s) unpublished.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        services.video_save_by_staff(video=obj)

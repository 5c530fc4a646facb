"""Staff moderation of comments and tweets; likes and subscriptions are visible read-only.

Nothing here writes a counted row behind the services' back: comments and tweets cannot be added
or edited in the admin (staff moderate by deleting, not by rewriting users' words), deleting
them goes through the cross-app deletes (``ops.admin`` registers ``CommentAdmin`` and
``TweetAdmin`` with them) so ``Video.comments_count`` stays exact, and likes and
subscriptions cannot be added, changed or deleted here directly (only as the cascade of deleting
what they belong to). Changelists load related names
with ``list_select_related`` (one query per page, whatever its size).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from social.models import Like, Subscription


class _ReadOnlyContentAdmin(admin.ModelAdmin):
    """View and delete only."""

    list_filter = ["created_at"]
    date_hierarchy = None
    list_per_page = 50
    readonly_fields = ["id", "author", "content", "created_at", "updated_at"]
    search_help_text = "Search by content, author username or author name."

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="content")
    def short_content(self, obj):
        return obj.content if len(obj.content) <= 80 else f"{obj.content[:79]}…"

    @admin.display(description="author", ordering="author__username")
    def author_username(self, obj):
        return obj.author.username


class CommentAdmin(_ReadOnlyContentAdmin):
    list_display = ["short_content", "author_username", "video_title", "created_at"]
    list_select_related = ["author", "video"]
    search_fields = ["content", "author__username", "author__fullname"]
    readonly_fields = ["id", "video", "author", "content", "created_at", "updated_at"]

    @admin.display(description="video", ordering="video__title")
    def video_title(self, obj):
        return obj.video.title


class TweetAdmin(_ReadOnlyContentAdmin):
    list_display = ["short_content", "author_username", "created_at"]
    list_select_related = ["author"]
    search_fields = ["content", "author__username", "author__fullname"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Visible, never written here: no add, no change, no delete action or delete page.

    ``has_delete_permission`` itself keeps Django's default on purpose: the admin asks it for
    every row a deletion would cascade to, and returning False would forbid deleting a comment,
    tweet, video or user that has likes or subscriptions. Rows removed by such a cascade need no
    counter update here (the counted object goes too, or its owner's service recounts).
    """

    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Like)
class LikeAdmin(_ReadOnlyAdmin):
    list_display = ["user", "target_kind", "target", "created_at"]
    list_select_related = ["user", "video", "comment", "tweet"]
    list_filter = ["created_at"]
    search_fields = ["user__username"]
    readonly_fields = ["id", "user", "video", "comment", "tweet", "created_at"]

    @admin.display(description="kind")
    def target_kind(self, obj):
        if obj.video_id:
            return "video"
        return "comment" if obj.comment_id else "tweet"

    @admin.display(description="target")
    def target(self, obj):
        return str(obj.video or obj.comment or obj.tweet)


@admin.register(Subscription)
class SubscriptionAdmin(_ReadOnlyAdmin):
    list_display = ["subscriber", "channel", "created_at"]
    list_select_related = ["subscriber", "channel"]
    list_filter = ["created_at"]
    search_fields = ["subscriber__username", "channel__username"]
    readonly_fields = ["id", "subscriber", "channel", "created_at"]

"""Staff moderation of comments and tweets; likes and subscriptions are visible read-only.

Nothing here writes a counted row behind the services' back: comments and tweets cannot be added
or edited in the admin (staff moderate by deleting, not by rewriting users' words), deleting
them goes through the cross-app deletes (``ops.admin`` registers ``CommentAdmin`` and
``TweetAdmin`` with them) so ``Video.comments_count`` and the threads' ``replies_count`` stay
exact (deleting a thread's top-level comment deletes its replies), and likes and
subscriptions cannot be added, changed or deleted here directly (only as the cascade of deleting
what they belong to). Changelists load related names
with ``list_select_related`` (one query per page, whatever its size).
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from social.models import Like, Subscription


def _shortened(text, length=80):
    return text if len(text) <= length else f"{text[: length - 1]}…"


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
        return _shortened(obj.content)

    @admin.display(description="author", ordering="author__username")
    def author_username(self, obj):
        return obj.author.username


class ThreadLevelFilter(admin.SimpleListFilter):
    """Top-level comments (those that start a thread) or replies."""

    title = "thread level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("top", "Top-level comments"), ("reply", "Replies")]

    def queryset(self, request, queryset):
        if self.value() in ("top", "reply"):
            return queryset.filter(parent__isnull=self.value() == "top")
        return queryset


class CommentAdmin(_ReadOnlyContentAdmin):
    """Comments with their threads: a reply links to the comment it is in the thread of, a
    top-level comment's replies count links to the changelist of those replies."""

    list_display = [
        "short_content",
        "author_username",
        "video_title",
        "reply_to",
        "replies",
        "is_pinned",
        "is_hearted",
        "created_at",
    ]
    list_select_related = ["author", "video", "parent"]
    list_filter = ["created_at", ThreadLevelFilter, "is_pinned", "is_hearted"]
    search_fields = ["content", "author__username", "author__fullname"]
    readonly_fields = [
        "id",
        "video",
        "author",
        "parent",
        "content",
        "replies",
        "is_pinned",
        "is_hearted",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="video", ordering="video__title")
    def video_title(self, obj):
        return obj.video.title

    @admin.display(description="reply to")
    def reply_to(self, obj):
        if obj.parent_id is None:
            return self.get_empty_value_display()
        url = reverse("admin:social_comment_change", args=[obj.parent_id])
        return format_html('<a href="{}">{}</a>', url, _shortened(obj.parent.content, 40))

    @admin.display(description="replies", ordering="replies_count")
    def replies(self, obj):
        if not obj.replies_count:
            return obj.replies_count
        query = urlencode({"parent__id__exact": obj.pk})
        url = f"{reverse('admin:social_comment_changelist')}?{query}"
        return format_html('<a href="{}">{}</a>', url, obj.replies_count)


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

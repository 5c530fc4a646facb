"""The admin classes whose deletes cascade across apps, registered with the cross-app deletes
of ``ops.deletion`` (one lock order, files deleted after the commit, counters kept exact)."""

from django.contrib import admin

from accounts.admin import UserAdmin
from accounts.models import User
from ops import deletion
from social.admin import CommentAdmin, TweetAdmin
from social.models import Comment, Tweet
from videos.admin import VideoAdmin
from videos.models import Video


def _only(obj):
    return type(obj).objects.filter(pk=obj.pk)


@admin.register(User)
class CascadingUserAdmin(UserAdmin):
    def delete_model(self, request, obj):
        deletion.users_delete(users=_only(obj))

    def delete_queryset(self, request, queryset):
        deletion.users_delete(users=queryset)


@admin.register(Video)
class CascadingVideoAdmin(VideoAdmin):
    def delete_model(self, request, obj):
        deletion.videos_delete(videos=_only(obj))

    def delete_queryset(self, request, queryset):
        deletion.videos_delete(videos=queryset)


@admin.register(Comment)
class CascadingCommentAdmin(CommentAdmin):
    def delete_model(self, request, obj):
        deletion.comments_delete(comments=_only(obj))

    def delete_queryset(self, request, queryset):
        deletion.comments_delete(comments=queryset)


@admin.register(Tweet)
class CascadingTweetAdmin(TweetAdmin):
    def delete_model(self, request, obj):
        deletion.tweets_delete(tweets=_only(obj))

    def delete_queryset(self, request, queryset):
        deletion.tweets_delete(tweets=queryset)

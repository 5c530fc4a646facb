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


def _cascading(admin_class, delete_many):
    """``admin_class`` whose single and bulk deletes go through ``delete_many(queryset)``."""

    class CascadingAdmin(admin_class):
        def delete_model(self, request, obj):
            delete_many(type(obj).objects.filter(pk=obj.pk))

        def delete_queryset(self, request, queryset):
            delete_many(queryset)

    CascadingAdmin.__name__ = CascadingAdmin.__qualname__ = f"Cascading{admin_class.__name__}"
    return CascadingAdmin


admin.site.register(User, _cascading(UserAdmin, lambda rows: deletion.users_delete(users=rows)))
admin.site.register(Video, _cascading(VideoAdmin, lambda rows: deletion.videos_delete(videos=rows)))
admin.site.register(
    Comment, _cascading(CommentAdmin, lambda rows: deletion.comments_delete(comments=rows))
)
admin.site.register(Tweet, _cascading(TweetAdmin, lambda rows: deletion.tweets_delete(tweets=rows)))

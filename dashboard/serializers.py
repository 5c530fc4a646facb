from rest_framework import serializers

from videos.serializers import VideoSerializer


class ChannelStatsSerializer(serializers.Serializer):
    # Integer fields also turn PostgreSQL's numeric SUM() (a Decimal) into a JSON integer.
    totalViews = serializers.IntegerField(help_text="Views of all the channel's videos.")
    totalSubscribers = serializers.IntegerField()
    totalVideos = serializers.IntegerField(help_text="Unpublished videos included.")
    publishedVideos = serializers.IntegerField()
    totalLikes = serializers.IntegerField(help_text="Likes of the channel's videos only.")
    totalComments = serializers.IntegerField()


class ChannelVideoSerializer(VideoSerializer):
    """A video of the caller's own channel: the video list shape plus its counters."""

    likesCount = serializers.IntegerField(source="likes_count", read_only=True)
    commentsCount = serializers.IntegerField(source="comments_count", read_only=True)

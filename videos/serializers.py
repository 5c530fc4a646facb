from rest_framework import serializers

from accounts.serializers import PersonSerializer
from viztube.storage import file_url


class VideoSerializer(serializers.Serializer):
    """The video shape of every list (api.md §3 "Videos"); storage keys are never exposed.

    Querysets must ``select_related("owner")``.
    """

    id = serializers.UUIDField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    videoFileUrl = serializers.SerializerMethodField()
    thumbnailUrl = serializers.SerializerMethodField()
    duration = serializers.FloatField(read_only=True)
    views = serializers.IntegerField(read_only=True)
    isPublished = serializers.BooleanField(source="is_published", read_only=True)
    userId = serializers.UUIDField(source="owner_id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    user = PersonSerializer(source="owner", read_only=True)

    def get_videoFileUrl(self, video) -> str:
        return file_url(video.video_file)

    def get_thumbnailUrl(self, video) -> str:
        return file_url(video.thumbnail)

from rest_framework import serializers

from viztube.storage import file_url


class PersonSerializer(serializers.Serializer):
    """The person shape used wherever a user appears inside another object (api.md §1)."""

    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    fullname = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()

    def get_avatar(self, user) -> str:
        return file_url(user.avatar)

"""The base of every resource's viewset."""

from rest_framework import serializers
from rest_framework.viewsets import GenericViewSet


class ApiViewSet(GenericViewSet):
    """A viewset whose actions parse their input with the serializer of ``input_serializers``
    (by action name) and serialize their output themselves, from what their service or selector
    returns, into the envelope (``viztube.api.envelope``)."""

    input_serializers = {}

    def get_serializer_class(self):
        # The browsable API and OPTIONS ask for the serializer of any action (a POST form on a
        # GET page): an action without a body has an empty one.
        return self.input_serializers.get(self.action, serializers.Serializer)

    def validated_input(self):
        """The request body, validated by the action's input serializer (422 otherwise)."""
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

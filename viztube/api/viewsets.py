"""The base of every resource's viewset."""

from rest_framework import exceptions, serializers
from rest_framework.viewsets import GenericViewSet


class ApiViewSet(GenericViewSet):
    """A viewset whose actions parse their input with the serializer of ``input_serializers``
    (by action name) and serialize their output themselves, from what their service or selector
    returns, into the envelope (``viztube.api.envelope``).

    Routes are bound by hand in each app's urls.py (``ViewSet.as_view({...})`` inside
    ``viztube.api.routes.route``), not by a router.
    """

    input_serializers = {}

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        """Give a route's view the settings its ``@action`` declares (parsers, throttle scope,
        permissions), as DRF's routers do."""
        declared = {}
        for name in (actions or {}).values():
            declared.update(getattr(getattr(cls, name, None), "kwargs", {}))
        return super().as_view(actions, **{**declared, **initkwargs})

    def initial(self, request, *args, **kwargs):
        # A method the route does not have is a 405 before anything else: telling an anonymous
        # caller to sign in for a method that does not exist would send them the wrong way.
        if getattr(self, request.method.lower(), None) is None:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def get_serializer_class(self):
        # The browsable API and OPTIONS ask for the serializer of each method of the route (a
        # POST form on a GET page, OPTIONS with ``self.action == "metadata"``): the action bound
        # to that method decides; one without a body has an empty serializer.
        action = self.action_map.get(self.request.method.lower(), self.action)
        return self.input_serializers.get(action, serializers.Serializer)

    def get_object(self):
        # Objects are read by the selectors, never through a DRF queryset. OPTIONS asks for one
        # before it describes a PUT: it gets none and describes the route without it.
        raise exceptions.NotFound()

    def validated_input(self, **kwargs):
        """The request body, validated by the action's input serializer (422 otherwise);
        ``kwargs`` go to the serializer (``partial``, ``context``)."""
        serializer = self.get_serializer(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

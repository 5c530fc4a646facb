"""Query parameters, parsed by serializers like any other input."""

from rest_framework import serializers

from .exceptions import BadRequest


class QueryParamsSerializer(serializers.Serializer):
    """The query parameters of one route. A bad parameter makes the request malformed (400, not
    a field error): each parameter may be given at most once (a repeated one is ambiguous), and
    the first problem found is the message."""

    def __init__(self, request, **kwargs):
        super().__init__(data=request.query_params, **kwargs)

    @classmethod
    def raw_key_parts(cls, request):
        """This route's parameters exactly as sent (every value of each), as strings: a key for
        what the parameters will parse to, without parsing them."""
        params = request.query_params
        return tuple(
            "\x1e".join(params.getlist(name)) if name in params else "\x1f"
            for name in cls._declared_fields
        )

    def parse(self):
        """The validated parameters, or ``BadRequest``."""
        for name in self.fields:
            if len(self.initial_data.getlist(name)) > 1:
                raise BadRequest(f"'{name}' must be given once")
        if not self.is_valid():
            messages = next(iter(self.errors.values()))
            raise BadRequest(str(messages[0]))
        return self.validated_data

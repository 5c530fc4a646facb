"""Query parameters, parsed by serializers like any other input."""

from rest_framework import serializers
from rest_framework.fields import empty

from .exceptions import BadRequest


class QueryParamsSerializer(serializers.Serializer):
    """The query parameters of one route. A bad parameter makes the request malformed (400, not
    a field error): each parameter may be given at most once (a repeated one is ambiguous), and
    the first problem found is the message."""

    def __init__(self, request, **kwargs):
        super().__init__(data=request.query_params, **kwargs)

    @classmethod
    def parse_request(cls, request):
        """``cls(request).parse()``, without building the serializer when none of its
        parameters was sent (see ``parse``)."""
        if cls._absent_parse_to_nothing() and not any(
            name in request.query_params for name in cls._declared_fields
        ):
            return {}
        return cls(request).parse()

    @classmethod
    def _absent_parse_to_nothing(cls):
        """Whether a request without any of these parameters parses to ``{}``: none is required
        or has a default, and no ``validate`` adds its own rule."""
        answer = cls.__dict__.get("_absent_answer")
        if answer is None:
            answer = cls.validate is serializers.Serializer.validate and all(
                not field.required and field.default is empty
                for field in cls._declared_fields.values()
            )
            cls._absent_answer = answer
        return answer

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
        if self._absent_parse_to_nothing() and not any(
            name in self.initial_data for name in self._declared_fields
        ):
            # None of them sent: what validation would answer, without copying the fields
            # (most of a serializer's cost, and the common request of a list).
            return {}
        for name in self.fields:
            if len(self.initial_data.getlist(name)) > 1:
                raise BadRequest(f"'{name}' must be given once")
        if not self.is_valid():
            messages = next(iter(self.errors.values()))
            raise BadRequest(str(messages[0]))
        return self.validated_data

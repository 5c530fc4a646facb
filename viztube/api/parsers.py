"""Request bodies: a JSON body is an object, on every route that takes one."""

from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser

NOT_AN_OBJECT = "The JSON body must be an object"


class JSONObjectParser(JSONParser):
    """DRF's JSON parser, refusing a body whose top level is not an object.

    Every route takes named fields, so ``[]``, ``"text"``, ``null``, ``1`` or ``true`` is a
    malformed request (400 "The JSON body must be an object"), like unreadable JSON, and not a
    field problem (422).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise ParseError(NOT_AN_OBJECT)
        return data


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, except that a view listing DRF's own ``JSONParser`` (in its
    ``parser_classes``) reads JSON with ``JSONObjectParser`` too: the rule holds on every route,
    not only on those that keep the default parsers."""

    def select_parser(self, request, parsers):
        parser = super().select_parser(request, parsers)
        if type(parser) is JSONParser:
            return JSONObjectParser()
        return parser

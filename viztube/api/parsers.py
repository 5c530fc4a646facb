"""Request bodies: a JSON body is an object and a multipart body holds a named form field, on
every route that takes one. Content negotiation: DRF's, remembered per ``Accept`` header."""

from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.settings import api_settings

NOT_AN_OBJECT = "The JSON body must be an object"
NO_FORM_FIELD = "The multipart body holds no named form field"


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


class _KeepHead:
    """A body stream that keeps its first bytes, to tell an empty form from an unreadable body."""

    SIZE = 512

    def __init__(self, stream):
        self._stream = stream
        self.head = b""

    def read(self, *args, **kwargs):
        data = self._stream.read(*args, **kwargs)
        if len(self.head) < self.SIZE:
            self.head += data[: self.SIZE - len(self.head)]
        return data


class MultiPartFormParser(MultiPartParser):
    """DRF's multipart parser, refusing a body in which no part is a named form field.

    Django skips what it cannot read as a form field (a body without the boundary, a part without
    its ``Content-Disposition`` name), so such a body used to read as an empty form: a PATCH
    answered 200 and changed nothing. A multipart body none of whose parts is a field is
    malformed (400 "The multipart body holds no named form field"), like unreadable JSON. An
    empty form (only the closing boundary, as browsers send an empty ``FormData``) and an empty
    body still read as no fields, and a nameless part beside named ones is ignored like an
    unknown field.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = _KeepHead(stream)
        parsed = super().parse(body, media_type, parser_context)
        if parsed.data or parsed.files:
            return parsed
        boundary = parse_header_parameters(media_type or "")[1].get("boundary", "")
        if body.head.strip() == f"--{boundary}--".encode():
            return parsed
        raise ParseError(NO_FORM_FIELD)


class UnreadBodyParser(BaseParser):
    """Any body, left unread: for a view that streams ``request.stream`` itself (a chunk of a
    resumable upload, which may be gigabytes). ``request.data`` is then empty, so nothing that
    looks at it reads, let alone buffers, the body."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


# DRF's own parsers, as a view may list them, and the ones read in their place.
_STRICTER = {JSONParser: JSONObjectParser, MultiPartParser: MultiPartFormParser}


# Renderer choices remembered (see ContentNegotiation.select_renderer): a few distinct Accept
# headers are all real clients send; the bounds keep what a hostile client can fill it with small.
_RENDERER_CHOICES_KEPT = 64
_ACCEPT_REMEMBERED_UP_TO = 256
_renderer_choices = {}


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, except that a view listing DRF's own ``JSONParser`` or
    ``MultiPartParser`` (in its ``parser_classes``) reads with ``JSONObjectParser`` or
    ``MultiPartFormParser``: the rules hold on every route, not only on those that keep the
    default parsers; and that the renderer chosen for an ``Accept`` header is remembered."""

    def select_parser(self, request, parsers):
        parser = super().select_parser(request, parsers)
        stricter = _STRICTER.get(type(parser))
        return stricter() if stricter else parser

    def select_renderer(self, request, renderers, format_suffix=None):
        """DRF's choice, which depends only on the renderers' classes (their media types and
        formats are class attributes), the format asked for and the ``Accept`` header: parsing
        and matching the header cost ~4 % of a cached list page, for the same answer every
        time. Up to 64 choices are kept per process, for headers up to 256 characters; a
        refusal (406, 404 for an unknown format) is never kept and is decided again."""
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if len(accept) > _ACCEPT_REMEMBERED_UP_TO:
            return super().select_renderer(request, renderers, format_suffix)
        asked_format = format_suffix or request.query_params.get(api_settings.URL_FORMAT_OVERRIDE)
        key = (*map(type, renderers), asked_format, accept)
        choice = _renderer_choices.get(key)
        if choice is not None:
            position, media_type = choice
            return renderers[position], media_type
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(_renderer_choices) < _RENDERER_CHOICES_KEPT:
            _renderer_choices[key] = (renderers.index(renderer), media_type)
        return renderer, media_type

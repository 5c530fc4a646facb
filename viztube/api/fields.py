"""Serializer fields every app's input uses."""

from rest_framework import serializers
from rest_framework.utils import html


class BlankIsGivenInForms:
    """DRF reads an empty optional field of a form body as "omitted"; with this, a blank value
    refused in JSON (422) is refused in a multipart or form body too (found by the fuzz)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class TextField(serializers.CharField):
    """Text, as the document's ``type: string`` says: a JSON number or boolean is refused (422)
    instead of being turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FormTextField(BlankIsGivenInForms, TextField):
    """``TextField`` whose blank form value is given, not omitted (``BlankIsGivenInForms``)."""

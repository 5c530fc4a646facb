"""The person shape is defined once (accounts.models.PERSON_FIELDS) and everything follows it."""

from accounts.models import PERSON_FIELDS
from accounts.selectors import JOINED_USER_FIELDS, person_defer
from accounts.serializers import PersonSerializer
from accounts.services import LISTED_USER_FIELDS


def test_the_serializer_shows_exactly_the_person_fields():
    assert tuple(PersonSerializer().fields) == PERSON_FIELDS


def test_joined_users_load_the_person_fields_and_nothing_private():
    deferred = {name.removeprefix("owner__") for name in person_defer("owner")}
    assert not deferred & set(PERSON_FIELDS)
    assert {"password", "email", "is_staff", "is_superuser"} <= deferred
    assert set(PERSON_FIELDS) <= JOINED_USER_FIELDS


def test_a_change_to_any_person_field_retires_cached_pages():
    assert set(PERSON_FIELDS) <= LISTED_USER_FIELDS

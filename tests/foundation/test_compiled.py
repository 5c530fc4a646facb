"""viztube.compiled: statements compiled once with named parameters, PostgreSQL's formatting of
ids and times, and rows read as response dicts; media.storage.stored_url's shortcut."""

import datetime
import uuid

import pytest
from django.core.files.storage import default_storage
from django.db.models import F, IntegerField, UUIDField, Value

from accounts.models import User
from media.storage import file_url, stored_url, url_of, video_storage
from tests.factories import UserFactory, VideoFactory
from videos.models import Video
from viztube.api.renderers import dumps
from viztube.compiled import (
    ApiDateTime,
    Converted,
    Parameter,
    Shape,
    Slot,
    Statement,
    compiled,
    paged,
    text_id,
)


@pytest.mark.django_db
def test_a_statement_binds_its_parameters_by_name_on_every_execution():
    first, second = UserFactory(username="first.one"), UserFactory(username="second.one")
    statement = Statement.of(
        User.objects.filter(pk=Parameter("who", UUIDField())).values_list("username")
    )
    assert statement.rows(who=first.pk) == [("first.one",)]
    assert statement.rows(who=second.pk) == [("second.one",)]
    assert statement.rows(who=uuid.uuid4()) == []


@pytest.mark.django_db
def test_glue_slots_and_fixed_values_travel_with_the_compiled_part():
    part = Statement.of(User.objects.filter(pk=Parameter("who", UUIDField())).values_list("id"))
    statement = Statement(
        f"SELECT %s, (SELECT count(*) FROM ({part.sql}) AS x) + %s",  # noqa: S608
        ["fixed", *part.params, Slot("add", IntegerField())],
    )
    user = UserFactory()
    assert statement.text({"who": user.pk, "add": 2}) == (
        f"SELECT 'fixed', (SELECT count(*) FROM ({part.sql}) AS x) + 2".replace(  # noqa: S608
            "%s", f"'{user.pk}'::uuid"
        )
    )
    assert statement.rows(who=user.pk, add=2) == [("fixed", 3)]


@pytest.mark.django_db
def test_a_missing_value_is_an_error_not_a_null():
    statement = Statement.of(User.objects.filter(pk=Parameter("who", UUIDField())))
    with pytest.raises(KeyError):
        statement.rows()


def test_compiled_builds_once_per_arguments():
    calls = []

    @compiled
    def statement(flag):
        calls.append(flag)
        return User.objects.filter(is_active=flag).values_list("id")

    assert statement(True) is statement(True)
    assert statement(False) is not statement(True)
    assert calls == [True, False]
    assert isinstance(statement(True), Statement)


MOMENTS = [
    datetime.datetime(2026, 6, 14, 8, 42, 8, 123456, tzinfo=datetime.UTC),
    datetime.datetime(2026, 6, 14, 8, 42, 8, 999999, tzinfo=datetime.UTC),  # truncated, not 09.000
    datetime.datetime(2026, 12, 31, 23, 59, 59, 999500, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 1, 0, 0, 0, 1000, tzinfo=datetime.UTC),
    datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
    datetime.datetime(999, 5, 6, 7, 8, 9, 10, tzinfo=datetime.UTC),
]


@pytest.mark.django_db
@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_api_datetime_is_byte_identical_to_the_renderer(moment):
    VideoFactory(published_at=moment)
    (formatted,) = Video.objects.annotate(at=ApiDateTime("published_at")).values_list(
        "at", flat=True
    )
    assert dumps(formatted) == dumps(moment)


@pytest.mark.django_db
def test_api_datetime_keeps_null():
    VideoFactory(is_published=False)
    assert list(
        Video.objects.annotate(at=ApiDateTime("published_at")).values_list("at", flat=True)
    ) == [None]


@pytest.mark.django_db
def test_text_id_is_the_uuid_as_str():
    video = VideoFactory()
    assert list(Video.objects.annotate(t=text_id("pk")).values_list("t", flat=True)) == [
        str(video.pk)
    ]


@pytest.mark.django_db
def test_a_shape_reads_its_columns_in_its_own_key_order_with_nested_and_converted_fields():
    owner = UserFactory(username="owner.name", fullname="Öwner")
    video = VideoFactory(owner=owner, title="T", views=7)
    person = Shape(id=text_id("id"), username="username")
    shape = Shape(
        views="views",
        user=person.extend(
            id=text_id("owner_id"), username="owner__username", name="owner__fullname"
        ),
        title=Converted("title", str.lower),
        id=text_id("pk"),
    )
    assert shape.width == 6
    (row,) = shape.select(Video.objects.all(), answer=Value(42)).filter(pk=video.pk)
    assert row[shape.width :] == (42,)
    read = shape.read(row)
    assert read == {
        "views": 7,
        "user": {"id": str(owner.pk), "username": "owner.name", "name": "Öwner"},
        "title": "t",
        "id": str(video.pk),
    }
    assert list(read) == ["views", "user", "title", "id"]
    assert list(read["user"]) == ["id", "username", "name"]
    assert shape.read((None, *row), start=1) == read


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "thumbnails/0123456789abcdef.jpg",
        "videos/a b.mp4",  # quoted by the storage
        "thumbnails/../x.jpg",  # resolved by the storage
        ".hidden/x.jpg",
        "x:y.jpg",
        "",
    ],
)
def test_stored_url_equals_file_url_for_the_same_name(name, settings, fake_cloudinary):
    video = Video(thumbnail=name, video_file=name)
    thumbnail_url = url_of(Video._meta.get_field("thumbnail"))
    video_file_url = url_of(Video._meta.get_field("video_file"))
    for change in (
        {"STORAGES": {**settings.STORAGES, **LOCAL_MEDIA}},
        {"MEDIA_URL": "https://cdn.example/m/"},
        {"MEDIA_URL": "/m/"},
        {"STORAGES": {**settings.STORAGES, **CLOUDINARY_MEDIA}},
    ):
        for setting, value in change.items():
            setattr(settings, setting, value)
        for function in (thumbnail_url, lambda n: stored_url(default_storage, n)):
            assert function(name) == file_url(video.thumbnail), change
        for function in (video_file_url, lambda n: stored_url(video_storage, n)):
            assert function(name) == file_url(video.video_file), change


LOCAL_MEDIA = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "videos": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
}
CLOUDINARY_MEDIA = {
    "default": {"BACKEND": "media.cloudinary_backends.CloudinaryImageStorage"},
    "videos": {"BACKEND": "media.cloudinary_backends.CloudinaryVideoStorage"},
}


@pytest.mark.django_db
def test_an_update_statement_moves_what_queryset_update_would_and_says_how_many():
    video = VideoFactory(views=3)
    updated_at = Video.objects.values_list("updated_at", flat=True).get(pk=video.pk)
    statement = Statement.update(
        Video.objects.filter(pk=Parameter("video", UUIDField())), views=F("views") + 1
    )
    assert statement.execute(video=video.pk) == 1
    assert statement.execute(video=uuid.uuid4()) == 0
    assert Video.objects.values_list("views", "updated_at").get(pk=video.pk) == (4, updated_at)


@pytest.mark.django_db
def test_paged_reads_the_requested_window_by_id():
    videos = sorted((VideoFactory() for _ in range(5)), key=lambda v: v.pk)
    ids = Video.objects.order_by("pk").values("pk")
    statement = Statement.of(
        Video.objects.filter(pk__in=paged(ids)).order_by("pk").values_list("title")
    )
    assert statement.rows(limit=2, offset=1) == [(v.title,) for v in videos[1:3]]
    assert statement.rows(limit=2, offset=5) == []


@pytest.mark.django_db
def test_a_statement_refuses_placeholders_it_does_not_know_and_counts_its_values():
    for sql, params in (("SELECT %d", [1]), ("SELECT %s", [1, 2]), ("SELECT %s, %s", [1])):
        with pytest.raises(ValueError, match="placeholder"):
            Statement(sql, params).text({})

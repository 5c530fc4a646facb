import re

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.models import USERNAME_PATTERN
from media.storage import file_url
from viztube.api.fields import TextField


class PersonSerializer(serializers.Serializer):
    """The person shape used wherever a user appears inside another object
    (``accounts.models.PERSON_FIELDS``)."""

    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    fullname = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()

    def get_avatar(self, user) -> str:
        return file_url(user.avatar)


# --- output -----------------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    """The caller's own account ("SafeUser"): never the password, tokens or staff flags."""

    class Meta:
        ref_name = "AccountUser"

    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    fullname = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()
    coverImage = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def get_avatar(self, user) -> str:
        return file_url(user.avatar)

    def get_coverImage(self, user) -> str:
        return file_url(user.cover_image)


class TokenPairSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AccountTokenPair"

    accessToken = serializers.CharField()
    refreshToken = serializers.CharField()


class LoginOutputSerializer(TokenPairSerializer):
    class Meta:
        ref_name = "AccountLogin"

    user = UserSerializer()


# --- input ------------------------------------------------------------------------------------

USERNAME_RULE = "Username must be 3 to 30 characters of a-z, 0-9, _ and ."
PASSWORD_MAX_LENGTH = 128


def _validate_password(password, *, user, field):
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: list(exc.messages)}) from None


DOCUMENTED_USERNAME_PATTERN = r"^\s*[A-Za-z0-9_.]{3,30}\s*$"


class AccountFieldsSerializer(serializers.Serializer):
    """``fullname``, ``email`` and ``username`` with the rules of registration: all trimmed; the
    username and email lower-cased. Used with ``partial=True`` for updates."""

    fullname = TextField(
        max_length=100,
        error_messages={
            "required": "Full name is required",
            "blank": "Full name is required",
            "max_length": "Full name must be at most 100 characters",
        },
    )
    email = serializers.EmailField(
        max_length=254,
        error_messages={
            "required": "Email is required",
            "blank": "Email is required",
            "invalid": "Invalid email address",
            "max_length": "Email must be at most 254 characters",
        },
    )
    username = TextField(
        error_messages={
            "required": "Username is required",
            "blank": "Username is required",
        },
        # What validate_username enforces, in the document too (any case, blanks trimmed):
        # without it the schema promised that any string up to 64 characters is a username.
        validators=[RegexValidator(DOCUMENTED_USERNAME_PATTERN, message=USERNAME_RULE)],
    )

    # Refused by the update service otherwise ("nothing to update"); all three are required at
    # registration anyway.
    openapi_request_schema = {
        "anyOf": [{"required": ["fullname"]}, {"required": ["email"]}, {"required": ["username"]}]
    }

    def validate_email(self, value):
        return value.lower()

    def validate_username(self, value):
        value = value.lower()
        if not re.fullmatch(USERNAME_PATTERN, value):
            raise serializers.ValidationError(USERNAME_RULE)
        return value


class RegisterInputSerializer(AccountFieldsSerializer):
    """Multipart registration: the fields and the password rules. The images' content is
    checked by the service (``media.validation``), before anything is stored.

    The password is capped at 128 characters: long enough for any passphrase, short enough
    that nobody can make us hash megabytes.
    """

    password = serializers.CharField(
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        error_messages={
            "required": "Password is required",
            "blank": "Password is required",
            "max_length": f"Password must be at most {PASSWORD_MAX_LENGTH} characters",
        },
    )
    avatar = serializers.FileField(
        error_messages={"required": "Avatar file is required", "empty": "The file is empty."}
    )
    coverImage = serializers.FileField(
        required=False, error_messages={"empty": "The file is empty."}
    )

    def to_internal_value(self, data):
        """Every field problem at once: the password's rules are checked even when another
        field already failed (DRF would run ``validate()`` only once the fields pass)."""
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            problems = dict(exc.detail)
            password = data.get("password")
            if "password" not in problems and isinstance(password, str):
                problems.update(self._password_problems(password, data))
            raise serializers.ValidationError(problems) from None
        problems = self._password_problems(attrs["password"], attrs)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs

    @staticmethod
    def _password_problems(password, identity):
        """The password rules' complaints (``{"password": [...]}`` or ``{}``), judged against
        the account it would belong to (not too similar to its names)."""
        would_be_user = get_user_model()(
            **{
                name: str(identity.get(name) or "").strip().lower()
                for name in ("username", "email", "fullname")
            }
        )
        try:
            _validate_password(password, user=would_be_user, field="password")
        except serializers.ValidationError as exc:
            return dict(exc.detail)
        return {}


class LoginInputSerializer(serializers.Serializer):
    """``{email | username, password}``; both identifiers are matched case-insensitively."""

    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    username = serializers.CharField(required=False, allow_blank=True, max_length=64)
    password = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=1024
    )
    # What validate() requires, for the document: a password, and an email or a username that is
    # not blank after trimming.
    openapi_request_schema = {
        "required": ["password"],
        "properties": {"password": {"minLength": 1}},
        "anyOf": [
            {"required": ["email"], "properties": {"email": {"pattern": "\\S"}}},
            {"required": ["username"], "properties": {"username": {"pattern": "\\S"}}},
        ],
    }

    def validate(self, attrs):
        errors = {}
        if not attrs.get("email") and not attrs.get("username"):
            # Both fields are named: either one fixes it.
            errors["email"] = errors["username"] = ["Email or username is required"]
        if not attrs.get("password"):
            errors["password"] = ["Password is required"]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class RefreshTokenInputSerializer(serializers.Serializer):
    """The refresh token when it does not come in the ``refreshToken`` cookie."""

    refreshToken = TextField(required=False, allow_blank=True, max_length=4096)


class ChangePasswordInputSerializer(serializers.Serializer):
    """``{oldPassword, newPassword}``; the new one must differ and pass Django's validators
    (checked against the caller, passed in ``context["user"]``)."""

    oldPassword = serializers.CharField(
        trim_whitespace=False,
        max_length=1024,
        error_messages={
            "required": "Old password is required",
            "blank": "Old password is required",
        },
    )
    newPassword = serializers.CharField(
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        error_messages={
            "required": "New password is required",
            "blank": "New password is required",
            "max_length": f"Password must be at most {PASSWORD_MAX_LENGTH} characters",
        },
    )

    def validate(self, attrs):
        if attrs["oldPassword"] == attrs["newPassword"]:
            raise serializers.ValidationError(
                {"newPassword": ["New password cannot be the same as the old password"]}
            )
        _validate_password(attrs["newPassword"], user=self.context["user"], field="newPassword")
        return attrs


class AvatarInputSerializer(serializers.Serializer):
    """One uploaded image; its content is checked by the service (``media.validation``)."""

    avatar = serializers.FileField(
        help_text="JPEG, PNG or WebP image",
        error_messages={"required": "Avatar file is required", "empty": "The file is empty."},
    )


class CoverImageInputSerializer(serializers.Serializer):
    """One uploaded image; its content is checked by the service (``media.validation``)."""

    coverImage = serializers.FileField(
        help_text="JPEG, PNG or WebP image",
        error_messages={"required": "Cover image file is required", "empty": "The file is empty."},
    )

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from viztube.models import UUIDv7Model

# The person shape: what a user shows inside another object (a video's owner, a comment's
# author). Defined once: the serializer shows these, joined users load only these, and a change
# to one of them retires cached list pages.
PERSON_FIELDS = ("id", "username", "fullname", "avatar")

USERNAME_PATTERN = r"^[a-z0-9_.]{3,30}$"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(username=username.strip().lower())

    def _create(self, username, email, password, **fields):
        user = self.model(username=username.strip().lower(), email=email.strip().lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, username, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(username, email, password, **fields)

    def create_superuser(self, username, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("fullname", username)
        return self._create(username, email, password, **fields)


class User(UUIDv7Model, AbstractBaseUser, PermissionsMixin):
    """A person and their channel. Usernames and emails are stored lower-case."""

    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[RegexValidator(USERNAME_PATTERN)],
        help_text="3 to 30 characters of a-z, 0-9, _ and . (stored lower-case).",
    )
    email = models.EmailField(max_length=254)
    fullname = models.CharField(max_length=100)
    avatar = models.FileField(upload_to="avatars/", max_length=255, blank=True)
    cover_image = models.FileField(upload_to="covers/", max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # Denormalised counts, updated with F() in the transaction that adds or removes the
    # subscription (social.services); `manage.py recount_counters` rebuilds them from rows.
    subscribers_count = models.PositiveIntegerField(default=0)
    subscriptions_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(username=Lower(F("username"))), name="user_username_lowercase"
            ),
        ]

    def __str__(self):
        return self.username

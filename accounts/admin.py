"""Staff moderation of users: Django's UserAdmin adapted to our model (no first/last name,
lower-case usernames and emails, denormalised counters read-only).

Saves go through ``accounts.services`` (so the caches follow). Deleting a user cascades into
every other app, so ``ops.admin`` registers this class with the cross-app delete.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import user_identity_taken
from accounts.services import user_deactivate_many, user_password_set_by_staff, user_save_by_staff


class _NormalisedIdentityMixin:
    """Usernames and emails are stored lower-case and unique case-insensitively (as through
    the API), so the admin normalises them the same way and names a clash plainly."""

    def clean_username(self):
        username = self.cleaned_data["username"].strip().lower()
        exclude = self.instance.pk if self.instance and self.instance.pk else None
        if user_identity_taken(username=username, exclude_pk=exclude)["username"]:
            raise ValidationError(_("A user with that username already exists."))
        return username

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        exclude = self.instance.pk if self.instance and self.instance.pk else None
        if user_identity_taken(email=email, exclude_pk=exclude)["email"]:
            raise ValidationError(_("A user with that email already exists."))
        return email


class UserAdminCreationForm(_NormalisedIdentityMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email", "fullname")


class UserAdminChangeForm(_NormalisedIdentityMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class UserAdminPasswordChangeForm(AdminPasswordChangeForm):
    """Django's form, saving through the service: earlier tokens stop working at once."""

    def save(self, commit=True):
        user = super().save(commit=False)
        if commit:
            user_password_set_by_staff(user=user)
        return user


class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    change_password_form = UserAdminPasswordChangeForm

    # Plain columns only: the changelist costs the same few queries whatever the page size.
    list_display = ("username", "email", "fullname", "is_active", "is_staff", "created_at")
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "email", "fullname")
    ordering = ("-created_at",)
    readonly_fields = (
        "id",
        "subscribers_count",
        "subscriptions_count",
        "last_login",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        (_("Profile"), {"fields": ("fullname", "email", "avatar", "cover_image")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            _("Activity"),
            {
                "fields": (
                    "subscribers_count",
                    "subscriptions_count",
                    "last_login",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "fullname",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    actions = ["deactivate_users"]

    def save_model(self, request, obj, form, change):
        user_save_by_staff(user=obj, changed_fields=form.changed_data if change else [])

    @admin.action(description=_("Deactivate selected users"), permissions=["change"])
    def deactivate_users(self, request, queryset):
        """Block login and refresh, and end current sessions: their refresh tokens are
        blacklisted and their access tokens fail at once (``CHECK_USER_IS_ACTIVE``)."""
        count = user_deactivate_many(user_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request, _("%(count)d user(s) deactivated.") % {"count": count}, messages.SUCCESS
        )

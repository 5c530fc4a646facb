"""``/notifications``: the caller's notifications (a cursor walk), marking them read, and the
caller's settings. Signed-in callers only; each action parses input, calls one selector or
service, and serializes the result.

Operation descriptions in the OpenAPI document come from ``api_doc(description=...)``; the
viewsets keep their notes in comments (a docstring would describe every action).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from notifications import selectors, services
from notifications.serializers import (
    MarkReadInputSerializer,
    NotificationListQuerySerializer,
    NotificationPageSerializer,
    NotificationSerializer,
    NotificationSettingsInputSerializer,
    NotificationSettingsSerializer,
    UnreadCountSerializer,
)
from viztube.api.cursor import cursor_body, cursor_request
from viztube.api.envelope import ok
from viztube.api.parsers import JSONObjectParser
from viztube.api.schema import CURSOR_PARAMETERS, api_doc
from viztube.api.viewsets import ApiViewSet

LIST_DESCRIPTION = (
    "The caller's notifications, newest first: `videoPublished` and `tweetPosted` (a channel "
    "the caller subscribes to), `videoCommented` (a top-level comment on the caller's video), "
    "`commentReplied` (a reply in a thread the caller started), `channelSubscribed`, "
    "`commentHearted`. A notification whose video the caller can no longer see is left out. "
    "Walk it with `cursor` (each answer's `nextCursor`, until null); `unread=true` keeps the "
    "unread ones. `unreadCount` counts the unread ones up to 100: 100 means 100 or more."
)

UNREAD = OpenApiParameter(
    "unread",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["true", "false"],
    description="`true`: only the unread notifications.",
)


# The caller's list and marking read. Bodies are JSON only: a list of ids and a boolean have no
# faithful form encoding (an absent form checkbox would read as false), so a form is a 415.
class NotificationViewSet(ApiViewSet):
    parser_classes = [JSONObjectParser]
    input_serializers = {"read": MarkReadInputSerializer}

    @api_doc(
        name="NotificationList",
        response=NotificationPageSerializer(),
        parameters=[UNREAD, *CURSOR_PARAMETERS],
        summary="The caller's notifications, newest first, with the unread count",
        description=LIST_DESCRIPTION,
    )
    def list(self, request):
        unread = NotificationListQuerySerializer.parse_request(request).get("unread", False)
        page = cursor_request(request, selectors.NOTIFICATIONS_LIST, reader=request.user.pk)
        rows = selectors.notification_page(user=request.user, page=page, unread=unread)

        def serialize(shown):
            return NotificationSerializer(shown, many=True).data

        body = cursor_body(rows, page, key=selectors.notification_position, serialize=serialize)
        body["unreadCount"] = selectors.unread_count(user_id=request.user.pk)
        return ok(body, "Notifications fetched successfully")

    @api_doc(
        name="NotificationsRead",
        response=UnreadCountSerializer,
        request=MarkReadInputSerializer,
        errors=(401, 415, 422),
        summary="Mark some or all of the caller's notifications read",
        description=(
            "`{ids: [...]}` marks those read (ids that are not the caller's notifications are "
            "ignored); `{all: true}` marks every one read. Answers the unread count after."
        ),
    )
    def read(self, request):
        data = self.validated_input()
        count = services.notifications_mark_read(
            user=request.user, ids=data.get("ids"), all_=data.get("all", False)
        )
        return ok({"unreadCount": count}, "Notifications marked read")


# The caller's settings: which types they are sent. JSON bodies only, as above.
class NotificationSettingsViewSet(ApiViewSet):
    parser_classes = [JSONObjectParser]
    input_serializers = {"partial_update": NotificationSettingsInputSerializer}

    @api_doc(
        name="NotificationSettings",
        response=NotificationSettingsSerializer,
        summary="Which notifications the caller is sent (every type, until changed)",
        description="One boolean per notification type; true until the caller switches it off.",
    )
    def retrieve(self, request):
        row = selectors.notification_settings(user=request.user)
        return ok(NotificationSettingsSerializer(row).data, "Notification settings fetched")

    @api_doc(
        name="NotificationSettingsUpdate",
        response=NotificationSettingsSerializer,
        request=NotificationSettingsInputSerializer,
        errors=(401, 415, 422),
        summary="Switch notification types on or off (the others are kept)",
        description=(
            "A type switched off is not delivered from then on; notifications already "
            "delivered stay."
        ),
    )
    def partial_update(self, request):
        fields = self.validated_input()
        row = services.notification_settings_update(user=request.user, fields=fields)
        return ok(NotificationSettingsSerializer(row).data, "Notification settings updated")

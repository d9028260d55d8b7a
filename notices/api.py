"""The caller's notices (消息中心) over the API: list them, mark one read."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import error_responses
from notices import selectors
from notices.models import Notice
from notices.services import notice_mark_read


class NoticeSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text="In the request's language.")
    body = serializers.CharField(read_only=True)
    link = serializers.CharField(read_only=True, help_text="A path on this site, or empty.")
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notice
        fields = ["id", "kind", "title", "body", "link", "created_at", "is_read", "read_at"]
        read_only_fields = fields


UNREAD = OpenApiParameter(
    name="unread",
    type=OpenApiTypes.BOOL,
    location=OpenApiParameter.QUERY,
    required=False,
    description="`true`: unread notices only (the page's `count` is then the unread count).",
)


@extend_schema_view(list=extend_schema(summary="Own notices, newest first", parameters=[UNREAD]))
class NoticeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NoticeSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Notice]:
        notices = selectors.notices_for(self.request.user)
        if self.action == "list" and self.request.query_params.get("unread") in ("true", "1"):
            notices = notices.filter(read_at__isnull=True)
        return notices

    @extend_schema(
        summary="Mark a notice read",
        request=None,
        responses={200: NoticeSerializer, **error_responses(404)},
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notice = notice_mark_read(notice=self.get_object(), user=request.user)
        return Response(NoticeSerializer(notice).data)

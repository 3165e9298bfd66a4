"""REST API for the signed-in user's own profile."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.serializers import BaseSerializer

from accounts.models import User
from foundations.api.serializers import StrictFieldsMixin, UTCDateTimeField
from foundations.audit import audited_update
from foundations.requests import AuthenticatedRequest


class MeSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    microsoft_connected = serializers.BooleanField(
        source="is_microsoft_connected",
        read_only=True,
        help_text="Whether Microsoft 365 is connected (tokens are never shown).",
    )
    date_joined = UTCDateTimeField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "timezone",
            "profile_photo_url",
            "role",
            "is_staff",
            "is_superuser",
            "microsoft_connected",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "role", "is_staff", "is_superuser"]


@extend_schema(tags=["me"])
class MeView(generics.RetrieveUpdateAPIView):
    """You: name, time zone and photo (an https:// URL) can be changed; Microsoft 365 is
    connected in the admin."""

    serializer_class = MeSerializer
    throttle_scope = "api"
    http_method_names = ["get", "patch", "head", "options"]

    request: AuthenticatedRequest

    def get_object(self) -> User:
        return self.request.user

    def perform_update(self, serializer: BaseSerializer[User]) -> None:
        # The profile being changed is always the requester's own.
        current = self.request.user.timezone
        chosen = serializer.validated_data.get("timezone", current)
        extra = {"timezone_chosen": True} if chosen != current else {}
        audited_update(write=serializer, user=self.request.user, **extra)

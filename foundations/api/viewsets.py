"""Owner-scoped viewsets: the requester's own rows (superusers: everyone's), and CRUD whose
every write is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from django.db import transaction
from django.db.models import Model, QuerySet
from rest_framework import generics, serializers, viewsets

from foundations.audit import api_write_audit, audited_update
from foundations.models import OwnedQuerySet
from foundations.requests import AuthenticatedRequest

_ModelT = TypeVar("_ModelT", bound=Model)

if TYPE_CHECKING:
    # For mypy the mixin is the view it is mixed into; at run time it adds no base.
    _GenericAPIViewBase = generics.GenericAPIView
else:
    _GenericAPIViewBase = object


class OwnedQuerysetMixin(_GenericAPIViewBase):
    """The requester's own rows (superusers: everyone's); another user's row answers 404."""

    request: AuthenticatedRequest
    throttle_scope = "api"

    def get_queryset(self) -> QuerySet:
        # The viewsets serve owned models, whose managers are OwnedQuerySets.
        return cast(OwnedQuerySet, super().get_queryset()).for_user(self.request.user)


class OwnedReadOnlyModelViewSet(OwnedQuerysetMixin, viewsets.ReadOnlyModelViewSet[_ModelT]):
    pass


class OwnedModelViewSet(OwnedQuerysetMixin, viewsets.ModelViewSet[_ModelT]):
    """CRUD on the requester's own rows.

    Every create, update and delete writes an AuditLog row with the request's correlation id.
    Subclasses with workflows to run after a write override `after_save` / `after_delete`;
    subclass `OwnedModelViewSet[TheModel]` so they take that model.
    """

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        with transaction.atomic(using="default"):
            instance = serializer.save()
            self.audit(instance, "create", sorted(serializer.validated_data))
        self.after_save(instance)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        instance = audited_update(write=serializer, user=self.request.user)
        self.after_save(instance)

    def perform_destroy(self, instance: _ModelT) -> None:
        pk = instance.pk
        with transaction.atomic(using="default"):
            self.audit(instance, "delete", [])
            instance.delete()
        instance.pk = pk
        self.after_delete(instance)

    def after_save(self, instance: _ModelT) -> None:
        """Hook for workflows that follow a write (schedules, ...)."""

    def after_delete(self, instance: _ModelT) -> None:
        """Hook for workflows that follow a delete."""

    def audit(self, instance: Model, operation: str, fields: list[str]) -> None:
        api_write_audit(
            user=self.request.user, instance=instance, operation=operation, fields=fields
        )

"""Calendar workflows that talk to Microsoft Graph."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.microsoft import graph_client
from accounts.models import User
from auditing.models import AuditLog
from auditing.services import audit_operation
from calendars.models import Category
from foundations.graph import GraphClient


@dataclass(frozen=True)
class CategorySyncResult:
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def categories_sync(*, user: User, client: GraphClient | None = None) -> CategorySyncResult:
    """Copy the user's Outlook master categories into `categories` (name, color, id).

    Rows are matched by Microsoft id, then by name ignoring case; nothing is deleted, because
    archived appointments may still name a category Outlook no longer has.
    """
    with audit_operation(
        action_type=AuditLog.ActionType.MICROSOFT,
        operation="categories_sync",
        user=user,
        resource_type="Category",
    ) as audit:
        client = client or graph_client(user=user)
        outlook = client.list_master_categories()
        created = updated = unchanged = 0
        with transaction.atomic():
            existing = list(Category.objects.select_for_update().filter(user=user))
            by_id = {c.ms_category_id: c for c in existing if c.ms_category_id}
            by_name = {c.name.casefold(): c for c in existing}
            for item in outlook:
                name = (item.get("displayName") or "").strip()
                if not name:
                    continue
                category = by_id.get(item.get("id")) or by_name.get(name.casefold())
                if category is None:
                    category = Category.objects.create(
                        user=user, name=name, color=item.get("color"), ms_category_id=item.get("id")
                    )
                    by_name[name.casefold()] = category
                    created += 1
                    continue
                wanted = (name, item.get("color"), item.get("id"))
                if (category.name, category.color, category.ms_category_id) == wanted:
                    unchanged += 1
                    continue
                category.name, category.color, category.ms_category_id = wanted
                category.save(update_fields=["name", "color", "ms_category_id"])
                updated += 1
        result = CategorySyncResult(created=created, updated=updated, unchanged=unchanged)
        audit.message = f"Synced {len(outlook)} Outlook categories: {result}"
        audit.details = {"created": created, "updated": updated, "unchanged": unchanged}
        return result

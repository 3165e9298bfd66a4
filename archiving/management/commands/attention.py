from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.commands import user_by_email
from archiving.attention import attention_refresh
from auditing.attention import action_items_at_stake, confident_apply, confident_items
from auditing.models import ActionLog
from auditing.recommendations import confidence_threshold


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(
            f"--min-confidence must be a number from 0 to 1, not {text!r}."
        ) from None
    if not 0 <= value <= 1:
        raise CommandError(f"--min-confidence must be from 0 to 1, not {value}.")
    return value


class Command(BaseCommand):
    help = (
        "The attention inbox of EMAIL: open action items with their top recommendation and "
        "what they hold back; --apply-confident applies the confident ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="Whose items.")
        parser.add_argument(
            "--apply-confident",
            action="store_true",
            help="Apply each item's top recommendation when it is at least --min-confidence sure.",
        )
        parser.add_argument(
            "--min-confidence",
            default=None,
            help="From 0 to 1; default ATTENTION_CONFIDENCE_THRESHOLD (the admin's pre-selection).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="With --apply-confident: say what it would do."
        )
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="First suggest again from your history (items from before an upgrade).",
        )

    def handle(
        self,
        *args: Any,
        email: str,
        apply_confident: bool,
        min_confidence: str | None,
        dry_run: bool,
        refresh: bool,
        **options: Any,
    ) -> None:
        floor = confidence_threshold() if min_confidence is None else _confidence(min_confidence)
        if dry_run and not apply_confident:
            raise CommandError("--dry-run goes with --apply-confident.")
        user = user_by_email(email)
        if refresh and not dry_run:
            self.stdout.write(f"{attention_refresh(user=user)} item(s) got new suggestions.")
        items = list(ActionLog.objects.filter(user=user).open().order_by("created_at", "id"))
        if not apply_confident:
            self._list(items)
            return
        chosen = confident_items(items=items, min_confidence=floor)
        if dry_run:
            for item, top in chosen:
                self.stdout.write(
                    f"would apply #{item.pk} {item}: {top['label']} ({top['confidence']:.0%})"
                )
            sure = f"{len(chosen)} of {len(items)} open item(s) at least {floor:.0%} sure"
            self.stdout.write(f"{sure}; nothing changed (dry run).")
            return
        outcomes = confident_apply(items=[i for i, _ in chosen], by=user, min_confidence=floor)
        for outcome in outcomes:
            verb = "applied" if outcome.applied else "FAILED"
            self.stdout.write(f"{verb} #{outcome.item.pk} {outcome.item}: {outcome.message}")
        failed = [o for o in outcomes if not o.applied]
        self.stdout.write(
            f"{len(outcomes) - len(failed)} applied, {len(failed)} failed, "
            f"{len(items) - len(outcomes)} left for you to decide."
        )
        if failed:
            raise CommandError(f"{len(failed)} item(s) could not be applied; they stay open.")

    def _list(self, items: list[ActionLog]) -> None:
        stakes = action_items_at_stake(items=items)
        for item in items:
            top = item.top_recommendation
            stake = stakes.get(item.pk)
            line = f"#{item.pk} [{item.get_event_type_display()}] {item.description}"
            if stake is not None:
                line += f" — at stake {stake}"
            self.stdout.write(line)
            if top is not None:
                mark = "✓" if item.top_is_preselected else " "
                self.stdout.write(
                    f"    {mark} {top['label']} ({top['confidence']:.0%}) {top['reason']}".rstrip()
                )
        self.stdout.write(f"{len(items)} open item(s).")

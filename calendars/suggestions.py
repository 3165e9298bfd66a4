"""Which billing category a meeting probably belongs to, learned from one user's own
categorised history. Pure: no ORM, no Graph; archiving/attention.py feeds it rows.

The model is small and explainable on purpose (see the README, "The attention inbox"): for each
piece of evidence a meeting carries — an outside person's address, their e-mail domain, the
recurring series, a subject word, the location, the time of day — it counts how the user's
past meetings with that evidence were categorised. A meeting's suggestion is a weighted vote of
those counts:

- each feature f seen n_f times votes for category c with its share n_fc / n_f, weighted by how
  telling that kind of evidence is (a series or a person more than a subject word) and by how
  often it was seen (n_f / (n_f + 1), so one past meeting counts for less than ten);
- purity(c) = the weighted share of the votes for c; strength = evidence / (evidence + 2), from
  how much history stands behind the features;
- confidence(c) = purity(c) * strength.

The reason quotes the counts that carried the vote ("8 of your 9 meetings with people at
modena.example were 'Modena - billable'"). The time of day only ever tips a vote, never makes
one: a meeting with no person, series, word or place the history knows gets no suggestion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PERSONAL = "personal"  # the label of meetings the user said are not billable
WEIGHTS = {"series": 4.0, "addr": 3.0, "dom": 2.5, "loc": 1.5, "word": 1.0, "tod": 0.3}
STRONG_KINDS = frozenset({"series", "addr", "dom", "loc", "word"})
STRENGTH_HALF = 2.0
STOPWORDS = frozenset(
    {
        "the", "and", "for", "with", "from", "about", "call", "meeting", "meet", "sync",
        "catch", "catchup", "chat", "re", "fw", "fwd", "weekly", "daily", "monthly", "update",
        "review", "session", "team", "online", "teams", "zoom", "invite", "invitation",
    }
)  # fmt: skip
# Public mail services: a domain shared by strangers says nothing about a customer (their
# addresses still do).
FREEMAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
        "msn.com", "yahoo.com", "yahoo.co.uk", "icloud.com", "me.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.ru", "zoho.com",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


@dataclass(frozen=True)
class Evidence:
    """What a meeting shows about who it was for."""

    people: tuple[str, ...] = ()  # outside attendees and organiser, lower-case addresses
    series: str | None = None
    words: tuple[str, ...] = ()
    location: str | None = None
    hour: int | None = None  # local hour of the start

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.rpartition("@")[2] for p in self.people if "@" in p))

    def features(self) -> list[tuple[str, str]]:
        found = [("addr", p) for p in self.people]
        found += [("dom", d) for d in self.domains if d not in FREEMAIL]
        if self.series:
            found.append(("series", self.series))
        found += [("word", w) for w in self.words]
        if self.location:
            found.append(("loc", self.location))
        if self.hour is not None:
            found.append(("tod", time_of_day(self.hour)))
        return found


def time_of_day(hour: int) -> str:
    if hour < 9:
        return "early morning"
    if hour < 12:
        return "morning"
    if hour < 17:
        return "afternoon"
    return "evening"


def subject_words(subject: str | None) -> tuple[str, ...]:
    words = (w.casefold() for w in _WORD.findall(subject or ""))
    return tuple(dict.fromkeys(w for w in words if len(w) >= 3 and w not in STOPWORDS))


def outside_people(event: Mapping[str, Any] | None, own_domains: Iterable[str]) -> tuple[str, ...]:
    """Attendees and organiser of a Graph event whose address is outside `own_domains`."""
    own = {d.casefold() for d in own_domains if d}
    found: list[str] = []
    if not isinstance(event, Mapping):
        return ()
    people = list(event.get("attendees") or [])
    if isinstance(event.get("organizer"), Mapping):
        people.append(event["organizer"])
    for person in people:
        address = (
            (person.get("emailAddress") or {}).get("address")
            if isinstance(person, Mapping)
            else None
        )
        if not isinstance(address, str) or "@" not in address:
            continue
        address = address.strip().casefold()
        if address.rpartition("@")[2] not in own and address not in found:
            found.append(address)
    return tuple(found)


def evidence_of(
    *,
    event: Mapping[str, Any] | None,
    subject: str | None,
    location: str | None,
    hour: int | None,
    own_domains: Iterable[str],
    series: str | None = None,
) -> Evidence:
    graph = event if isinstance(event, Mapping) else {}
    return Evidence(
        people=outside_people(graph, own_domains),
        series=series or graph.get("seriesMasterId") or None,
        words=subject_words(subject),
        location=(location or "").strip().casefold() or None,
        hour=hour,
    )


@dataclass(frozen=True)
class Suggestion:
    label: str  # a category name, or PERSONAL
    confidence: float
    reason: str


@dataclass
class CategoryModel:
    """Per-feature counts of the labels of one user's past meetings."""

    counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, examples: Iterable[tuple[Evidence, str]]) -> CategoryModel:
        model = cls()
        for evidence, label in examples:
            model.learn(evidence, label)
        return model

    def learn(self, evidence: Evidence, label: str) -> None:
        for feature in evidence.features():
            self.counts.setdefault(feature, Counter())[label] += 1

    def suggest(
        self, evidence: Evidence, *, exclude: Iterable[str] = (), limit: int = 3
    ) -> list[Suggestion]:
        """Best first; empty when nothing the history knows points anywhere."""
        excluded = {label.casefold() for label in exclude}
        known = [(f, self.counts[f]) for f in evidence.features() if f in self.counts]
        if not any(kind in STRONG_KINDS for (kind, _), _ in known):
            return []
        votes: dict[str, float] = {}
        total = mass = 0.0
        for (kind, _value), labels in known:
            seen = sum(labels.values())
            weight = WEIGHTS[kind] * seen / (seen + 1)
            total += weight
            mass += WEIGHTS[kind] * min(seen, 20) if kind in STRONG_KINDS else 0.0
            for label, count in labels.items():
                votes[label] = votes.get(label, 0.0) + weight * count / seen
        strength = mass / (mass + STRENGTH_HALF)
        ranked = [
            (label, vote / total * strength)
            for label, vote in sorted(votes.items(), key=lambda pair: -pair[1])
            if label.casefold() not in excluded
        ]
        return [
            Suggestion(label, round(confidence, 3), self.reason(evidence, label))
            for label, confidence in ranked[:limit]
            if confidence > 0.05
        ]

    def reason(self, evidence: Evidence, label: str) -> str:
        """The two pieces of evidence that carried most of the vote for `label`, in words."""
        scored = []
        for feature in evidence.features():
            labels = self.counts.get(feature)
            if not labels or not labels.get(label) or feature[0] == "tod":
                continue
            seen = sum(labels.values())
            scored.append((WEIGHTS[feature[0]] * labels[label] * labels[label] / seen, feature))
        scored.sort(key=lambda pair: -pair[0])
        chosen: list[tuple[str, str]] = []
        for _, feature in scored:
            # A person and their domain backed by the very same meetings say one thing once.
            same = [f for f in chosen if self.counts[f] == self.counts[feature]]
            if feature[0] in ("addr", "dom") and any(f[0] in ("addr", "dom") for f in same):
                continue
            chosen.append(feature)
            if len(chosen) == 2:
                break
        return "; ".join(self._phrase(f, label) for f in chosen)

    def _phrase(self, feature: tuple[str, str], label: str) -> str:
        labels = self.counts[feature]
        hits, seen = labels[label], sum(labels.values())
        kind, value = feature
        named = "left unbilled" if label == PERSONAL else f"'{label}'"
        meetings = "meeting" if seen == 1 else "meetings"
        of = f"{hits} of your {seen} {meetings}" if seen > 1 else "your one meeting"
        if kind == "series":
            if hits == seen:
                return f"the other occurrences of this series are {named}"
            return f"{hits} of the {seen} other occurrences of this series are {named}"
        where = {
            "addr": f"with {value}",
            "dom": f"with people at {value}",
            "loc": f"at {value}",
            "word": f"with “{value}” in the subject",
        }[kind]
        return f"{of} {where} {'was' if seen == 1 else 'were'} {named}"

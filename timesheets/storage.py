"""Copying the documents in Django's `default` storage (timesheet files, export archives) to a
folder and back: the documents half of a backup and restore, and the way existing files move
from the local disk to an object store (export with one DOCUMENT_STORAGE, import with the other).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage

# Where the app writes documents in the storage (timesheets/services.py, admin_exports.py).
DOCUMENT_FOLDERS = ("timesheets", "exports")
MANIFEST = "manifest.json"


class DocumentCopyError(Exception):
    """A document could not be copied; the message names it."""


def _stored_names(storage: Storage, folder: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for child in folders:
        yield from _stored_names(storage, f"{folder}/{child}")


def documents_export(*, folder: Path, storage: Storage | None = None) -> dict[str, str]:
    """Copy every document to `folder` (same relative names) with a manifest of their SHA-256;
    the manifest."""
    storage = storage or default_storage
    manifest = {}
    for top in DOCUMENT_FOLDERS:
        for name in _stored_names(storage, top):
            with storage.open(name, "rb") as handle:
                content = handle.read()
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            manifest[name] = hashlib.sha256(content).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def documents_import(*, folder: Path, storage: Storage | None = None) -> dict[str, int]:
    """Put every document of an export back under its own name; those already stored with the
    same content are left alone. Refuses a folder whose files do not match its manifest."""
    storage = storage or default_storage
    manifest_file = folder / MANIFEST
    if not manifest_file.exists():
        raise DocumentCopyError(f"{folder} has no {MANIFEST}: not a documents export.")
    manifest: dict[str, str] = json.loads(manifest_file.read_text())
    counts = {"stored": 0, "unchanged": 0}
    for name, digest in sorted(manifest.items()):
        content = (folder / name).read_bytes()
        if hashlib.sha256(content).hexdigest() != digest:
            raise DocumentCopyError(f"{name} does not match the manifest; nothing more imported.")
        if storage.exists(name):
            with storage.open(name, "rb") as handle:
                if hashlib.sha256(handle.read()).hexdigest() == digest:
                    counts["unchanged"] += 1
                    continue
            storage.delete(name)
        saved = storage.save(name, ContentFile(content))
        if saved != name:
            raise DocumentCopyError(f"{name} was stored as {saved}; check the storage's settings.")
        counts["stored"] += 1
    return counts

"""OneDrive's naming rules, for the timesheet files the upload puts there: every folder and file
name made acceptable to OneDrive and SharePoint, and still readable."""

from __future__ import annotations

# concepts/onedrive-addressing-driveitems.md ("OneDrive reserved characters"): never in a file or
# folder name, and # % not on OneDrive for Business (SharePoint), which we may be talking to.
ONEDRIVE_RESERVED_CHARACTERS = frozenset('"*:<>?/\\|#%')
# "Restrictions and limitations in OneDrive and SharePoint" (support.microsoft.com): names that
# are not allowed (device names also not with an extension), and "_vti_" anywhere in a name.
ONEDRIVE_RESERVED_NAMES = frozenset([".lock", "desktop.ini"])
ONEDRIVE_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{d}" for d in range(10)), *(f"LPT{d}" for d in range(10))]
)
ONEDRIVE_MAX_SEGMENT = 255


def onedrive_name(segment: str, *, replacement: str = "-") -> str:
    """One file or folder name made acceptable to OneDrive and SharePoint, readable as before.

    Reserved characters and control characters become `replacement` (so "A/S" stays one
    folder), a leading "~" and trailing dots and spaces go, and a reserved name gets a "_".
    """
    cleaned = "".join(
        replacement if char in ONEDRIVE_RESERVED_CHARACTERS or ord(char) < 32 else char
        for char in segment
    )
    cleaned = cleaned.replace("_vti_", "_vti-").strip().lstrip("~").strip()
    cleaned = cleaned[:ONEDRIVE_MAX_SEGMENT].rstrip(". ")
    stem, dot, extension = cleaned.partition(".")
    if cleaned.casefold() in ONEDRIVE_RESERVED_NAMES or stem.upper() in ONEDRIVE_DEVICE_NAMES:
        cleaned = f"{stem}_{dot}{extension}"
    return cleaned or "_"


def onedrive_path(*segments: str) -> str:
    """A drive path from names, each cleaned by `onedrive_name` (empty names are skipped)."""
    return "/".join(onedrive_name(segment) for segment in segments if segment.strip())

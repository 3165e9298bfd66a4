"""Time zone names Microsoft Graph accepts, and nothing more.

api-reference/v1.0/resources/datetimetimezone.md: "The TimeZone property can be set to any of the
time zones supported by Windows, as well as the following time zones names" — the IANA names
below, copied from that page (where it gives two spellings, e.g. "Europe/Kyiv (Kiev)", both).
Anything else (Europe/Amsterdam, Europe/Madrid, Europe/Zurich, Europe/Dublin, ...) is answered
400 TimeZoneNotSupportedException, in `Prefer: outlook.timezone` as in a request body.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

DOCUMENTED_IANA = frozenset(
    [
        "Etc/GMT+12",
        "Etc/GMT+11",
        "Pacific/Honolulu",
        "America/Anchorage",
        "America/Santa_Isabel",
        "America/Los_Angeles",
        "America/Phoenix",
        "America/Chihuahua",
        "America/Denver",
        "America/Guatemala",
        "America/Chicago",
        "America/Mexico_City",
        "America/Regina",
        "America/Bogota",
        "America/New_York",
        "America/Indiana/Indianapolis",
        "America/Caracas",
        "America/Asuncion",
        "America/Halifax",
        "America/Cuiaba",
        "America/La_Paz",
        "America/Santiago",
        "America/St_Johns",
        "America/Sao_Paulo",
        "America/Argentina/Buenos_Aires",
        "America/Cayenne",
        "America/Godthab",
        "America/Montevideo",
        "America/Bahia",
        "Etc/GMT+2",
        "Atlantic/Azores",
        "Atlantic/Cape_Verde",
        "Africa/Casablanca",
        "Etc/GMT",
        "Europe/London",
        "Atlantic/Reykjavik",
        "Europe/Berlin",
        "Europe/Budapest",
        "Europe/Paris",
        "Europe/Warsaw",
        "Africa/Lagos",
        "Africa/Windhoek",
        "Europe/Bucharest",
        "Asia/Beirut",
        "Africa/Cairo",
        "Asia/Damascus",
        "Africa/Johannesburg",
        "Europe/Kyiv",
        "Europe/Kiev",
        "Europe/Istanbul",
        "Asia/Jerusalem",
        "Asia/Amman",
        "Asia/Baghdad",
        "Europe/Kaliningrad",
        "Asia/Riyadh",
        "Africa/Nairobi",
        "Asia/Tehran",
        "Asia/Dubai",
        "Asia/Baku",
        "Europe/Moscow",
        "Indian/Mauritius",
        "Asia/Tbilisi",
        "Asia/Yerevan",
        "Asia/Kabul",
        "Asia/Karachi",
        "Asia/Toshkent",
        "Asia/Tashkent",
        "Asia/Kolkata",
        "Asia/Colombo",
        "Asia/Kathmandu",
        "Asia/Astana",
        "Asia/Almaty",
        "Asia/Dhaka",
        "Asia/Yekaterinburg",
        "Asia/Yangon",
        "Asia/Rangoon",
        "Asia/Bangkok",
        "Asia/Novosibirsk",
        "Asia/Shanghai",
        "Asia/Krasnoyarsk",
        "Asia/Singapore",
        "Australia/Perth",
        "Asia/Taipei",
        "Asia/Ulaanbaatar",
        "Asia/Irkutsk",
        "Asia/Tokyo",
        "Asia/Seoul",
        "Australia/Adelaide",
        "Australia/Darwin",
        "Australia/Brisbane",
        "Australia/Sydney",
        "Pacific/Port_Moresby",
        "Australia/Hobart",
        "Asia/Yakutsk",
        "Pacific/Guadalcanal",
        "Asia/Vladivostok",
        "Pacific/Auckland",
        "Etc/GMT-12",
        "Pacific/Fiji",
        "Asia/Magadan",
        "Pacific/Tongatapu",
        "Pacific/Apia",
        "Pacific/Kiritimati",
    ]
)
# Windows time zone ids, as CLDR's windowsZones lists them ("UTC" is one of them).
WINDOWS = frozenset(win_tz)


def graph_accepts(name: str) -> bool:
    return name in WINDOWS or name in DOCUMENTED_IANA


def zone_info(name: str) -> ZoneInfo:
    """The zone for a name Graph accepts (or one an Outlook client stored on an event)."""
    iana = win_tz.get(name, name)
    for alias, real in (("Asia/Toshkent", "Asia/Tashkent"), ("Asia/Astana", "Asia/Almaty")):
        if iana == alias:
            iana = real
    return ZoneInfo(iana)

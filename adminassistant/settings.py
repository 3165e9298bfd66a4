"""Settings for Admin Assistant, read from the environment (django-environ).

Every variable is documented in `.env.example` and the README. With nothing configured the app
runs on two SQLite files under `var/`; `DJANGO_ENV=production` makes missing secrets fatal.
Over 450 lines: one settings file, every variable beside its default and its reason.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"


def _project_path(name: str, default: str) -> Path:
    """A path from the environment; relative ones are taken from the project folder."""
    return BASE_DIR / env.str(name, default=default)


VAR_DIR = _project_path("VAR_DIR", "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret(name: str, make: Callable[[], str]) -> str:
    """A secret kept in var/ so a development checkout runs with nothing configured."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _required_in_production(name: str, file_name: str, make: Callable[[], str]) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production.")
    return _development_secret(file_name, make)


DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = _required_in_production("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))

# Comma-separated Fernet keys: the first encrypts, all of them decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in _required_in_production(
        "FIELD_ENCRYPTION_KEYS", "field_encryption_key", lambda: Fernet.generate_key().decode()
    ).split(",")
    if key.strip()
]

for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError as _error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe "
            'base64-encoded bytes each); generate one with `python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        ) from _error

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "adminassistant.apps.AdminAssistantAdminConfig",
    "adminassistant.apps.AdminAssistantConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.microsoft",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_q",
    "accounts",
    "calendars",
    "archiving",
    "timesheets",
    "auditing",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "auditing.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # An API answer frees what it was built from once rendered (foundations/api/release.py).
    "foundations.api.release.ApiReleaseMiddleware",
    # A page's candidate templates are resolved once (foundations/templates.py).
    "foundations.templates.TemplateChoiceMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "adminassistant.urls"
WSGI_APPLICATION = "adminassistant.wsgi.application"

TEMPLATES = [
    {
        # Django's own, with templates that free their context once rendered.
        "BACKEND": "foundations.templates.DjangoTemplates",
        # The alias Django's own backend has (`using="django"`, as drf-spectacular asks).
        "NAME": "django",
        # Listed first so that these admin templates override django.contrib.admin's own.
        "DIRS": [BASE_DIR / "adminassistant" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.microsoft",
            ],
        },
    },
]

# Two databases: `default` is the system of record, `web` holds disposable runtime state.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'core.sqlite3'}"),
    "web": env.db_url("WEB_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'web.sqlite3'}"),
}
for _alias, _database in DATABASES.items():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        _database.setdefault("CONN_HEALTH_CHECKS", True)
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server and the django-q2 workers share the files.
        _database.setdefault("OPTIONS", {})
        _database["OPTIONS"].setdefault(
            "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        )
        _database["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
        _database["OPTIONS"].setdefault("timeout", 20)
    _database["TEST"] = {"NAME": env.str(f"TEST_{_alias.upper()}_DATABASE_NAME", default=None)}
DATABASE_ROUTERS = ["foundations.routers.DatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://django_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's backend, keeping its Redis client (foundations/cache.py).
    CACHES["default"]["BACKEND"] = "foundations.cache.RedisCache"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a password login for a (user, IP) pair that is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

SITE_ID = 1
ACCOUNT_LOGIN_METHODS = {"email"}
# allauth's own per-account limit would let strangers lock the real user out; django-axes locks
# per (user, IP) instead, so only allauth's per-IP limit stays.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}

# Content-Security-Policy (django-csp) on every page: the admin, the API and its Swagger UI (served
# from drf-spectacular-sidecar, its start-up script from our own URL) need nothing inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# django-axes guards every password login (admin and allauth): after AXES_FAILURE_LIMIT failures
# for one user from one IP address, that pair is refused for AXES_COOLOFF_HOURS.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.services.login_attempt_username"
# The proxies in front of the web servers (README, "Process model"): the nearest
# TRUSTED_PROXY_COUNT hops and any hop in TRUSTED_PROXIES (addresses or CIDR networks) are ours,
# and the client is the right-most other hop of X-Forwarded-For. With neither, X-Forwarded-For is
# ignored. foundations.client_ip gives that address to axes, allauth, the audit log and the API.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES must list IP addresses or CIDR networks; {_proxy!r} is neither."
        ) from _error
AXES_CLIENT_IP_CALLABLE = "foundations.client_ip.request_client_ip"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True

SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Messages live in the server-side session, never in a cookie: a new API key is shown in one.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = _project_path("STATIC_ROOT", "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = _project_path("MEDIA_ROOT", "media")
# Timesheet documents (and export archives) go through the `default` storage: the local disk
# under MEDIA_ROOT, or with DOCUMENT_STORAGE=s3 an S3-compatible bucket that every web server and
# worker reads alike (django-storages; boto3 finds credentials in S3_ACCESS_KEY_ID and
# S3_SECRET_ACCESS_KEY, or else its own chain: instance role, ~/.aws).
DOCUMENT_STORAGE = env.str("DOCUMENT_STORAGE", default="local")
if DOCUMENT_STORAGE not in {"local", "s3"}:
    raise ImproperlyConfigured("DOCUMENT_STORAGE must be local or s3.")
_documents: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if DOCUMENT_STORAGE == "s3":
    _documents = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("S3_PREFIX", default=""),
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="") or None,
            "verify": env.str("S3_CA_BUNDLE", default="") or None,
            "signature_version": "s3v4",
            # Private documents: no public ACL, never overwritten in place, and any URL signed.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
STORAGES = {
    "default": _documents,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# health/ready/ reports unavailable below this much free disk for MEDIA_ROOT.
HEALTH_MEDIA_MIN_FREE_MB = env.int("HEALTH_MEDIA_MIN_FREE_MB", default=100)

# django-q2: the queue, results and schedules live on the `web` database (the router agrees).
Q_CLUSTER = {
    # Clusters of one deployment share a name: with Redis it names their queue.
    "name": env.str("Q_CLUSTER_NAME", default="adminassistant"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=1800),
    "retry": env.int("Q_RETRY", default=2100),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    # django-q2 keeps this many results across all tasks (0 keeps all); a run's status is
    # answered from archiving.ArchiveRun, so pruning never loses it.
    "save_limit": env.int("Q_SAVE_LIMIT", default=250),
    # Seconds between the guard's checks; django-q2 looks for due schedules once these add up
    # to 30 s.
    "guard_cycle": env.float("Q_GUARD_CYCLE", default=0.5),
    "orm": "web",
}
# Leases on archive runs (archiving.leases): a running run renews its heartbeat this often; one
# silent for ARCHIVE_RUN_STALE_SECONDS (or queued, never started, for ARCHIVE_QUEUE_STALE_SECONDS)
# is abandoned and its work queued again, at most ARCHIVE_RUN_MAX_ATTEMPTS runs in all.
ARCHIVE_HEARTBEAT_SECONDS = env.float("ARCHIVE_HEARTBEAT_SECONDS", default=30)
ARCHIVE_RUN_STALE_SECONDS = env.float("ARCHIVE_RUN_STALE_SECONDS", default=300)
ARCHIVE_QUEUE_STALE_SECONDS = env.float("ARCHIVE_QUEUE_STALE_SECONDS", default=3600)
ARCHIVE_RUN_MAX_ATTEMPTS = env.int("ARCHIVE_RUN_MAX_ATTEMPTS", default=3)
if env.str("REDIS_URL", default=""):
    # Redis as the broker for several clusters; results and schedules stay on `web`.
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = env.str("REDIS_URL")


def _throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate such as 600/minute; `off` (or empty) turns that limit off."""
    value = env.str(name, default=default).strip()
    return None if value.lower() in {"", "off", "none"} else value


REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing login a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["foundations.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "foundations.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "foundations.api.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "foundations.api.pagination.PageNumberPagination",
    "DEFAULT_THROTTLE_CLASSES": ["foundations.api.throttling.ScopedThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": _throttle_rate("API_THROTTLE_RATE", "100/second"),
        "archive-run": _throttle_rate("API_ARCHIVE_RUN_THROTTLE_RATE", "120/hour"),
        "timesheet-generate": _throttle_rate("API_TIMESHEET_GENERATE_THROTTLE_RATE", "300/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "foundations.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "foundations.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Admin Assistant API",
    "DESCRIPTION": (
        "Appointments, timesheets, archive runs and the audit trail of Admin Assistant. "
        "Authenticate with a personal API token (`Authorization: Bearer <key>`, created in the "
        "admin under API tokens) or a logged-in session. Every user sees only their own rows."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AppointmentShowAsEnum": "calendars.models.Appointment.ShowAs",
        "AppointmentSensitivityEnum": "calendars.models.Appointment.Sensitivity",
        "AppointmentImportanceEnum": "calendars.models.Appointment.Importance",
        "BillingTypeEnum": "calendars.models.Appointment.BillingType",
        "OverlapStateEnum": "calendars.models.Appointment.OverlapState",
        "AuditStatusEnum": "auditing.models.AuditLog.Status",
        "ActionLogStateEnum": "auditing.models.ActionLog.State",
        "TimesheetStatusEnum": "timesheets.models.Timesheet.Status",
    },
}
# Request bodies larger than this are refused (413) before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)


# Microsoft 365 (issue 3 uses these; the app starts without them).
MS_CLIENT_ID = env.str("MS_CLIENT_ID", default="")
MS_CLIENT_SECRET = env.str("MS_CLIENT_SECRET", default="")
MS_TENANT_ID = env.str("MS_TENANT_ID", default="common")
MS_AUTHORITY_HOST = env.str("MS_AUTHORITY_HOST", default="https://login.microsoftonline.com")
MS_GRAPH_URL = env.str("MS_GRAPH_URL", default="https://graph.microsoft.com/v1.0")
MS_CA_BUNDLE = env.str("MS_CA_BUNDLE", default="")

# Xero (issue 13): an app registered at developer.xero.com; base URLs so tests use a fake.
XERO_CLIENT_ID = env.str("XERO_CLIENT_ID", default="")
XERO_CLIENT_SECRET = env.str("XERO_CLIENT_SECRET", default="")
XERO_REDIRECT_URI = env.str("XERO_REDIRECT_URI", default="")
XERO_LOGIN_URL = env.str("XERO_LOGIN_URL", default="https://login.xero.com")
XERO_IDENTITY_URL = env.str("XERO_IDENTITY_URL", default="https://identity.xero.com")
XERO_API_URL = env.str("XERO_API_URL", default="https://api.xero.com")
XERO_CA_BUNDLE = env.str("XERO_CA_BUNDLE", default="")
# Seconds to connect to Xero and to wait for each answer: both bounded, a timeout is retried.
XERO_CONNECT_TIMEOUT = env.float("XERO_CONNECT_TIMEOUT", default=10.0)
XERO_READ_TIMEOUT = env.float("XERO_READ_TIMEOUT", default=60.0)
# Seconds to open a connection to Microsoft and to wait for its answer; every call has both
# (Graph, msal's token endpoint, allauth's sign-in), so a stalled endpoint cannot hang a worker.
MS_CONNECT_TIMEOUT = env.float("MS_CONNECT_TIMEOUT", default=10.0)
MS_READ_TIMEOUT = env.float("MS_READ_TIMEOUT", default=60.0)
# Seconds one run may spend waiting on Retry-After and backoff in all; Retry-After is honoured as
# sent, and a run that would wait longer stops with a resumable error instead.
MS_RETRY_BUDGET = env.float("MS_RETRY_BUDGET", default=900.0)
# Delegated permissions, one per feature (README, "Microsoft 365"): User.Read (sign-in, profile),
# Calendars.ReadWrite (archive runs), Calendars.ReadWrite.Shared (another person's mailbox),
# MailboxSettings.ReadWrite (Outlook categories, the mailbox time zone), Files.ReadWrite (OneDrive).
MS_SCOPES = env.str(
    "MS_SCOPES",
    default="User.Read Calendars.ReadWrite Calendars.ReadWrite.Shared MailboxSettings.ReadWrite "
    "Files.ReadWrite",
).split()
# Where Microsoft sends the browser back after "Connect Microsoft 365"; built from the request
# when empty. Register it (and /accounts/microsoft/login/callback/) in the Azure app.
MS_REDIRECT_URI = env.str("MS_REDIRECT_URI", default="")
# Email domains whose Microsoft sign-ins may log into existing users with that email. With a
# specific MS_TENANT_ID every address of that tenant is trusted; with common/organizations only
# these domains are.
MS_SIGNIN_DOMAINS = env.list("MS_SIGNIN_DOMAINS", default=[])

SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = False
# allauth would keep tokens in plain text; the encrypted msal cache holds them instead.
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_PROVIDERS = {
    "microsoft": {
        "SCOPE": ["openid", "profile", "email", "offline_access", *MS_SCOPES],
        "AUTH_PARAMS": {"prompt": "select_account"},
    }
}

# OneDrive folder for uploaded timesheets; {customer} becomes the customer's display name.
ONEDRIVE_FOLDER = env.str("ONEDRIVE_FOLDER", default="Timesheets/{customer}")
# Exports of more appointments than this render their PDF in a django-q2 task.
TIMESHEET_PDF_SYNC_LIMIT = env.int("TIMESHEET_PDF_SYNC_LIMIT", default=2000)
# The attention inbox pre-selects (and "apply the confident ones" applies) recommendations at
# least this sure, from 0 to 1.
ATTENTION_CONFIDENCE_THRESHOLD = env.float("ATTENTION_CONFIDENCE_THRESHOLD", default=0.8)

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-admin-2025")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint narrates every rendering step at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe health over plain HTTP, next to the TLS they terminate.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

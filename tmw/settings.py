"""Settings for TMW Channel Desk; every environment difference comes from a variable."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "tmw.admin_apps.TMWAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "axes",
    "csp",
    "tmw.accounts",
    "tmw.ops",
    "tmw.webhooks",
    "tmw.directory",
    "tmw.dashboard",
    "diagnostics",
    "diagnostics.booking",
    "engagements",
    "commissions",
    "community",
]

MIDDLEWARE = [
    "tmw.request_id.RequestIDMiddleware",  # first: every response, even a redirect or an error, carries the id
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "tmw.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tmw.accounts.middleware.UserTimezoneMiddleware",
    "tmw.accounts.middleware.TenantScopeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tmw.urls"
WSGI_APPLICATION = "tmw.wsgi.application"
ASGI_APPLICATION = "tmw.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["tmw.templatetags.tmw_ui"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tmw.accounts.context_processors.navigation",
                "tmw.accounts.policy.capabilities",
                "tmw.pagecache.csrf_placeholder",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening one per request cost 1.2-2.2x on every page (bench/pages.py). A connection
# is checked before it is reused after a request, so a restarted database costs one failed reuse, not an error.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=600))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql") and not env.bool(
    "DATABASE_JIT", default=False
):
    # PostgreSQL's JIT compiles any query its cost estimate calls big: the tenancy filters' OR of EXISTS made an
    # 11 ms count take 1.3 s. The app's queries are short; compiling never pays for itself here.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=14)

# Failed-login lockout: five failures per account and address lock it for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "tmw.accounts.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "tmw.accounts.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The client address (tmw.accounts.auth.client_ip): REMOTE_ADDR, unless BEHIND_PROXY says a trusted
# proxy (PROXY_COUNT of them) sits in front and adds the address it saw to X-Forwarded-For.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
PROXY_COUNT = env.int("PROXY_COUNT", default=1) if BEHIND_PROXY else 0
AXES_CLIENT_IP_CALLABLE = "tmw.accounts.auth.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
# An MSP profile not confirmed by its MSP for this long is flagged as stale on the directory.
DIRECTORY_STALE_AFTER_DAYS = env.int("DIRECTORY_STALE_AFTER_DAYS", default=180)
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Stored files (issued statement PDFs are finance records): MEDIA_ROOT on this node's disk by default;
# with AWS_STORAGE_BUCKET_NAME an S3-compatible bucket that every web and worker node shares. A name is
# never overwritten in either: a second file under a taken name gets a new name.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # Unset keys leave boto3 to its own chain (instance or workload role).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"allow_overwrite": False}}
CSRF_FAILURE_VIEW = "tmw.error_views.csrf_failure"

STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Source maps are for developers' tools, never sent compressed to a browser: compressing the API docs'
# large maps was most of collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "tbz",
    "xz",
    "br",
    "swf",
    "flv",
    "woff",
    "woff2",
    "map",
)

# Email: console in development, SMTP (smtp://user:pass@host:587/?tls=True) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="TMW Channel Desk <desk@themspworks.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: with REDIS_URL a real broker; without it tasks run in-process.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}
# A statement run writes this many agreements' statements per task and transaction (about 50,000
# lines at 100 accounts each, under a second); a failed batch is split into one task per agreement.
STATEMENT_RUN_BATCH_SIZE = env.int("STATEMENT_RUN_BATCH_SIZE", default=500)
CELERY_BEAT_SCHEDULE["commissions-statement-run-monthly"] = {
    "task": "commissions.statement_run_monthly",
    "schedule": crontab(minute=0, hour=6, day_of_month=1),  # the previous month's statements
}
CELERY_BEAT_SCHEDULE["commissions-missing-reports"] = {
    "task": "commissions.missing_reports_notify",
    "schedule": crontab(minute=30, hour=6, day_of_month=1),  # last month's accounts without a revenue report
}
CELERY_BEAT_SCHEDULE["commissions-overdue-reminders"] = {
    "task": "commissions.overdue_reminders",
    "schedule": crontab(minute=0, hour=7),  # daily: overdue statements at a step of finance's reminder schedule
}
# Every minute: proves to /healthz that beat sends and a worker runs (tmw.ops).
CELERY_BEAT_SCHEDULE["ops-heartbeat"] = {"task": "ops.heartbeat", "schedule": 60}
# Daily: expired sessions and idempotency records older than IDEMPOTENCY_KEEP_DAYS are deleted (tmw.ops).
CELERY_BEAT_SCHEDULE["ops-housekeeping"] = {"task": "ops.housekeeping", "schedule": crontab(minute=45, hour=4)}
IDEMPOTENCY_KEEP_DAYS = env.int("IDEMPOTENCY_KEEP_DAYS", default=7)
# /healthz: a heartbeat older than this is stale; with HEALTHZ_REQUIRE_WORKER a stale worker or beat answers 503.
HEALTHZ_STALE_SECONDS = env.int("HEALTHZ_STALE_SECONDS", default=180)
HEALTHZ_REQUIRE_WORKER = env.bool("HEALTHZ_REQUIRE_WORKER", default=False)
# Desks, daily: silence acknowledges attributions past their window; owners get their overdue next steps.
CELERY_BEAT_SCHEDULE["engagements-deem-acknowledged"] = {
    "task": "engagements.deem_acknowledged",
    "schedule": crontab(minute=15, hour=5),
}
CELERY_BEAT_SCHEDULE["engagements-overdue-steps"] = {
    "task": "engagements.send_overdue_steps",
    "schedule": crontab(minute=0, hour=7),
}
CELERY_BEAT_SCHEDULE["community-send-due-reminders"] = {"task": "community.send_due_reminders", "schedule": 15 * 60}
# Webhooks (tmw.webhooks): seconds to wait after each failed attempt (then the delivery fails), whether an endpoint may
# be http:// or sit on a private, loopback or link-local address (tests' local receivers only), and the sweep that
# sends retries whose queued message was lost.
WEBHOOKS_RETRY_SCHEDULE = env.list("WEBHOOKS_RETRY_SCHEDULE", cast=int, default=[60, 300, 1800, 7200, 43200])
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOKS_CONNECT_TIMEOUT = env.float("WEBHOOKS_CONNECT_TIMEOUT", default=5.0)
WEBHOOKS_READ_TIMEOUT = env.float("WEBHOOKS_READ_TIMEOUT", default=10.0)
CELERY_BEAT_SCHEDULE["webhooks-send-due"] = {"task": "webhooks.send_due", "schedule": 60}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Pages a user loaded a moment ago are served again until the next write to the database (tmw/pagecache.py), for
# at most this many seconds. Only with a cache every process shares: without REDIS_URL each would keep its own.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60 if REDIS_URL else 0)
# With a shared cache, sessions are read from it (written through to the database): one query less on every page.
# Never with caches of each process's own, where a logout in one process would leave the session alive in another.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if REDIS_URL else "db")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tmw.accounts.auth.ActiveTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tmw.accounts.permissions.Allowed"],
    "DEFAULT_SCHEMA_CLASS": "tmw.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["tmw.api_filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tmw.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttling reads X-Forwarded-For only behind a trusted proxy, as the lockout does (None would trust it).
    "NUM_PROXIES": PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TMW Channel Desk API",
    "DESCRIPTION": "Diagnostics, channel desks, commercial terms and community for The MSP Works.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The error answers come from tmw.schema.AutoSchema; the hook after the enums fixes the time-of-day format.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "tmw.schema.postprocess"],
    "ENUM_NAME_OVERRIDES": {
        name: f"tmw.api_enums.{name}"
        for name in [
            "CountryEnum",
            "CurrencyEnum",
            "ServiceLineEnum",
            "PsaToolEnum",
            "RmmToolEnum",
            "VerticalEnum",
            "OrganisationKindEnum",
            "DiagnosticStatusEnum",
            "DeskOptionEnum",
            "EngagementStatusEnum",
            "MilestoneStatusEnum",
            "OpportunityStageEnum",
            "ActivityKindEnum",
            "BookingStatusEnum",
            "StatementStatusEnum",
            "StatementRunStatusEnum",
            "StatementLineKindEnum",
            "EventKindEnum",
            "RsvpStatusEnum",
            "DecisionOutcomeEnum",
            "WebhookEventEnum",
            "WebhookDeliveryStatusEnum",
            "WebhookAttemptOutcomeEnum",
            "AttributionAcknowledgementEnum",
            "DisputeOutcomeEnum",
            "EventQuestionKindEnum",
            "StatementDeliveryReasonEnum",
            "StatementQueryReasonEnum",
        ]
    },
}

# Security: strict by default whenever DEBUG is off (manage.py check --deploy passes).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): every script and stylesheet is a vendored file served from
# 'self'; no inline <script>, no inline handler, no style= attribute and no eval (htmx runs with
# allowEval off, see templates/includes/htmx_config.html). json_script blocks are data, not script.
# The API docs pages relax style-src for themselves only (tmw/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
# Permissions-Policy (tmw.headers.PermissionsPolicyMiddleware): no page uses a powerful feature.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Logging: one logger per app, named after the app's Python package (tmw.accounts, tmw.directory,
# tmw.dashboard, diagnostics, engagements, commissions, community), so ``logging.getLogger(__name__)``
# in any module of an app is a child of it. Business actions are logged to the owning app's logger
# when their audit row is written (tmw.accounts.services.audit_event). LOG_LEVEL sets the level
# (default INFO); LOG_FORMAT=json writes one JSON object per line (tmw.logging.JSONFormatter). Every record
# carries the id of its request or task (tmw.request_id, tmw.logging.RequestIDFilter).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = "json" if env.str("LOG_FORMAT", default="text").lower() == "json" else "text"
APP_LOGGERS = [
    "tmw",
    "tmw.accounts",
    "tmw.directory",
    "tmw.dashboard",
    "tmw.webhooks",
    "diagnostics",
    "engagements",
    "commissions",
    "community",
]
LOG_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# A Celery worker sets up its own handlers: the same line with the request id (JSON with LOG_FORMAT=json,
# tmw.logging.worker_log_format).
CELERY_WORKER_LOG_FORMAT = CELERY_WORKER_TASK_LOG_FORMAT = LOG_TEXT_FORMAT
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": LOG_TEXT_FORMAT},
        "json": {"()": "tmw.logging.JSONFormatter"},
    },
    "filters": {"request_id": {"()": "tmw.logging.RequestIDFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        **{name: {"level": LOG_LEVEL} for name in APP_LOGGERS},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Error reporting: Sentry (Django and Celery) only when SENTRY_DSN is set; no personal data; events tagged with the
# request id; tracing off unless SENTRY_TRACES_SAMPLE_RATE says otherwise.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from tmw.sentry import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

"""Settings of DSI Finance, read from environment variables only.

Embedded defaults let the app run on a bare machine: SQLite under var/ and a
Celery broker on the filesystem. DATABASE_URL=postgres://… switches to
PostgreSQL and CELERY_BROKER_URL=redis://… to Redis. DEBUG is off unless asked.
Every variable is listed in the README.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file beside manage.py is read when present (never committed).
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    """The SECRET_KEY from the environment; in DEBUG only, a local key kept in var/."""
    key = env("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY n'est pas défini. En production, définissez la variable "
            "d'environnement SECRET_KEY (50 caractères aléatoires ou plus), par exemple : "
            'python -c "import secrets; print(secrets.token_urlsafe(64))". '
            "Pour un poste de développement, lancez avec DEBUG=1."
        )
    # A development key, created once per checkout and never committed (var/ is ignored).
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third parties
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "simple_history",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    # DSI Finance
    "dsi_finance.apps.DsiFinanceConfig",
    "budgets",
    "procurement",
    "archive",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dsi_finance.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a logged-in user unless its view says otherwise (login,
    # health check; DRF's API views answer 401 themselves): a URL typed by hand
    # gets the same answer as the menu.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must come last: it turns a lockout into its French page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dsi_finance.urls"
WSGI_APPLICATION = "dsi_finance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "dsi_finance.context_processors.navigation",
            ],
            # The XPF filter is everywhere amounts are: no {% load %} to forget.
            "builtins": ["dsi_finance.templatetags.xpf"],
        },
    },
]

# --- Database -------------------------------------------------------------

# An empty DATABASE_URL (set but blank, as compose files often leave it) means the default.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'dsi_finance.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so the web process
    # and the Celery worker wait for each other instead of failing "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
        # Short aggregates over big tables (the dashboard's) cross jit_above_cost and then
        # spend seconds compiling a plan that runs in tens of milliseconds: JIT pays off
        # only for long analytical queries, which this application does not run.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds the API throttling counters: shared by every process with
# CACHE_URL=redis://… (production); per process in memory by default.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://dsi-finance")}

# --- Authentication -------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out until the cool-off ends.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout do not extend it: the cool-off runs from the last real failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "dsi_finance.views.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)

# --- Internationalisation -------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Pacific/Noumea"
# Dates as 31/12/2026 and thousands grouped with a space (dsi_finance/formats/).
FORMAT_MODULE_PATH = ["dsi_finance.formats"]
USE_THOUSAND_SEPARATOR = True

# --- Static files ---------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Production serves hashed, compressed files collected by collectstatic; DEBUG
# and the test suite (STATIC_MANIFEST=0) serve the source files as they are.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
# Pre-compressed (gzip, brotli) copies for WhiteNoise; off when a proxy compresses.
STATIC_COMPRESS = env.bool("STATIC_COMPRESS", default=True)
if not STATIC_MANIFEST:
    _static_backend = "django.contrib.staticfiles.storage.StaticFilesStorage"
elif STATIC_COMPRESS:
    _static_backend = "whitenoise.storage.CompressedManifestStaticFilesStorage"
else:
    _static_backend = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}

# --- Security -------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Outside DEBUG the site is served over HTTPS behind a proxy that sets
# X-Forwarded-Proto; each protection can be relaxed by its variable.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("USE_X_FORWARDED_PROTO", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check answers load balancers over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content Security Policy: every script, style and font comes from our own
# origin; no inline script anywhere (htmx is told not to inject its style).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- REST API -------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: an anonymous API call gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dsi_finance.api_permissions.HasRolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"auth-token": env("API_TOKEN_RATE", default="20/min")},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DSI Finance API",
    "DESCRIPTION": "Budget, engagements, factures et rapports de la DSI (montants entiers en XPF).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs follow the API's own rules (401 anonymous, 403 without a role).
    "SERVE_PERMISSIONS": ["dsi_finance.api_permissions.HasRolePermission"],
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------

# "localhost" only keeps Kombu from warning that no host was given.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_dir = VAR_DIR / "celery"
    for _folder in ("queue", "processed", "control"):
        (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        # Broadcast (control) messages too, instead of a "control/" folder in the cwd.
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task results and failures are kept in the database, visible in the admin.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}
# Reporting (reporting/tasks.py); crontab hours are Nouméa's (CELERY_TIMEZONE).
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE.update(
    {
        "reporting-requeue-reports": {
            "task": "reporting.requeue_reports",
            "schedule": crontab(),  # every minute
        },
        "reporting-monthly-report": {
            "task": "reporting.monthly_report",
            "schedule": crontab(minute=0, hour=6, day_of_month=1),
        },
        "reporting-nightly-ledger-check": {
            "task": "reporting.nightly_ledger_check",
            "schedule": crontab(minute=30, hour=2),
        },
    }
)
# A running report silent this long is taken over; a queued one sent this long ago
# without starting is sent again (minutes).
REPORT_STALE_AFTER_MINUTES = env.int("REPORT_STALE_AFTER_MINUTES", default=30)
REPORT_RESEND_AFTER_MINUTES = env.int("REPORT_RESEND_AFTER_MINUTES", default=10)

# --- Logging --------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint (and fontTools, which it uses to subset fonts) log every layout step
    # at INFO: a report PDF would fill the worker's log.
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Demo data ------------------------------------------------------------

# The password of the demo users created by seed_demo (documented in the README).
DEMO_PASSWORD = env("DEMO_PASSWORD", default="dsi-demo-2026")

# --- Procurement ----------------------------------------------------------

# A purchase request above this amount before tax (XPF) is approved by the IT director.
PROCUREMENT_APPROVAL_THRESHOLD = env.int("PROCUREMENT_APPROVAL_THRESHOLD", default=5_000_000)
# A liquidation above this amount before tax (XPF) is validated by the section head.
PROCUREMENT_LIQUIDATION_THRESHOLD = env.int("PROCUREMENT_LIQUIDATION_THRESHOLD", default=1_000_000)
# Invoiced quantities may exceed received ones by this much (percent of the received quantity).
PROCUREMENT_RECEIPT_TOLERANCE_PERCENT = env.int("PROCUREMENT_RECEIPT_TOLERANCE_PERCENT", default=5)
# The TGC rate a new line starts with: the normal rate of New Caledonia (11 %).
PROCUREMENT_DEFAULT_TGC_RATE = env("PROCUREMENT_DEFAULT_TGC_RATE", default="11")
# Above this a document amount is a typing error: a thousand billion francs.
PROCUREMENT_MAX_AMOUNT = 10**12
# Files joined to purchase requests.
PROCUREMENT_ATTACHMENT_MAX_BYTES = env.int("PROCUREMENT_ATTACHMENT_MAX_BYTES", default=10 * 2**20)
PROCUREMENT_ATTACHMENT_EXTENSIONS = (
    "pdf",
    "png",
    "jpg",
    "jpeg",
    "odt",
    "ods",
    "docx",
    "xlsx",
    "txt",
    "eml",
    "msg",
)
# EUR converts at the fixed parity (DESIGN.md): XPF for one euro.
EUR_PARITY = "119.331742"
# The operator's identity on purchase orders. The default address is a placeholder: with
# DEBUG off no order form is built until OPERATOR_ADDRESS is set (procurement/pdf.py);
# with DEBUG on the form is marked « adresse à compléter ». Line breaks: "\n".
OPERATOR_NAME = env("OPERATOR_NAME", default="Opérateur public de Nouvelle-Calédonie")
OPERATOR_DEPARTMENT = env("OPERATOR_DEPARTMENT", default="Direction des systèmes d’information")
OPERATOR_ADDRESS_PLACEHOLDER = "BP 000 — 98800 Nouméa, Nouvelle-Calédonie"
OPERATOR_ADDRESS = env("OPERATOR_ADDRESS", default=OPERATOR_ADDRESS_PLACEHOLDER)
OPERATOR_RIDET = env("OPERATOR_RIDET", default="")
# Who signs the orders: a name (may stay empty: signed by hand) and a title.
OPERATOR_SIGNATORY_NAME = env("OPERATOR_SIGNATORY_NAME", default="")
OPERATOR_SIGNATORY_TITLE = env(
    "OPERATOR_SIGNATORY_TITLE", default="Le directeur des systèmes d’information"
)

# Covering indexes (INCLUDE) serve PostgreSQL, the production database; SQLite, the
# embedded default, builds the same indexes without their extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

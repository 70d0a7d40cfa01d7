"""Beacon settings, read from the environment (see README, "Settings").

Nothing here is edited per deployment: every knob is an environment variable read by
``beacon.envconfig``, and a bad value stops start-up with a message naming it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from beacon.envconfig import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BEACON_VAR_DIR", str(BASE_DIR / "var")))

BEACON_ENV = env_choice("BEACON_ENV", "development", ("development", "production", "test"))
PRODUCTION = BEACON_ENV == "production"

_DEV_SECRET = "beacon-development-secret-key-not-for-production-use-0123456789"  # noqa: S105
SECRET_KEY = env_str("BEACON_SECRET_KEY", _DEV_SECRET)
DEBUG = env_bool("BEACON_DEBUG", not PRODUCTION)
if PRODUCTION and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "BEACON_SECRET_KEY must be set to a random value of at least 50 characters "
        "when BEACON_ENV=production."
    )
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("BEACON_DEBUG must be false when BEACON_ENV=production.")

ALLOWED_HOSTS = env_list(
    "BEACON_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("BEACON_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "beacon.core",
    "beacon.programs",
    "beacon.partners",
    "beacon.youth",
    "beacon.incidents",
    "beacon.officers",
    "beacon.watch",
    "beacon.reports",
    "beacon.notify",
    "beacon.forums",
    "beacon.surveys",
    "beacon.evaluation",
    "beacon.insights",
    "beacon.problems",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "beacon.core.middleware.RequestIdMiddleware",
    "beacon.core.overload.InflightLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "beacon.core.middleware.StaffSessionMiddleware",
    "beacon.core.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Load shedding (beacon/core/overload.py): requests one process serves at once, 0 for no
# cap; past it a request waits this long for a slot, then gets 503 with Retry-After.
BEACON_MAX_INFLIGHT = env_int("BEACON_MAX_INFLIGHT", 0, minimum=0)
BEACON_INFLIGHT_WAIT_MS = env_int("BEACON_INFLIGHT_WAIT_MS", 0, minimum=0, maximum=10_000)
BEACON_OVERLOAD_RETRY_AFTER = env_int("BEACON_OVERLOAD_RETRY_AFTER", 2, minimum=1, maximum=3600)

if PRODUCTION:
    # Static files are collected into STATIC_ROOT and served by WhiteNoise in production;
    # the development server serves them from the apps directly.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "beacon.urls"
WSGI_APPLICATION = "beacon.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "beacon" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "beacon.core.context_processors.beacon",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'beacon.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:  # dj-database-url names unknown schemes
    raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the worker and the web process share the file; a busy timeout rides
    # out short write locks instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    _test_name = env_str("BEACON_TEST_DATABASE_NAME", "")
    if _test_name:
        DATABASES["default"]["TEST"] = {"NAME": _test_name}
else:
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("BEACON_TEST_DATABASE_NAME", "beacon_test"),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if BEACON_ENV == "test":
    # Tests create many users; a fast hasher keeps the suite quick. Argon2 stays the
    # production hasher and its own test checks it.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:home"

AXES_FAILURE_LIMIT = env_int("BEACON_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("BEACON_LOCKOUT_MINUTES", 15, minimum=1))
# Lock the account under attack, wherever the guesses come from: a per-address lock
# alone lets a botnet try every password against one officer's account.
AXES_LOCKOUT_PARAMETERS = ["username"]
# Django's sign-in form posts the email address in a field called "username".
AXES_USERNAME_FORM_FIELD = "username"
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False

# Staff sessions end after this many idle seconds; residents keep Django's default.
BEACON_STAFF_IDLE_SECONDS = env_int("BEACON_STAFF_IDLE_SECONDS", 1800, minimum=60)
BEACON_REQUIRE_TOTP = env_bool("BEACON_REQUIRE_TOTP", True)
OTP_TOTP_ISSUER = "Beacon"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("BEACON_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("BEACON_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEACON_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

BEACON_MAP_TILE_URL = env_str("BEACON_MAP_TILE_URL", "")
BEACON_MAP_ATTRIBUTION = env_str("BEACON_MAP_ATTRIBUTION", "")
_tile_origin = ""
if BEACON_MAP_TILE_URL:
    from urllib.parse import urlsplit

    _parts = urlsplit(BEACON_MAP_TILE_URL.replace("{s}", "a"))
    _tile_origin = f"{_parts.scheme}://{_parts.netloc}".replace("://a.", "://*.")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *([_tile_origin] if _tile_origin else [])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "beacon" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "beacon" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("BEACON_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

EMAIL_BACKEND = env_str("BEACON_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("BEACON_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("BEACON_SMTP_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("BEACON_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("BEACON_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("BEACON_SMTP_TLS", True)
DEFAULT_FROM_EMAIL = env_str("BEACON_FROM_EMAIL", "Beacon <beacon@localhost>")

TASKS = {
    "default": {
        "BACKEND": env_str("BEACON_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

BEACON_DATA_DIR = Path(env_str("BEACON_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))
BEACON_H3_RESOLUTION = 9

# Typed addresses on the report page are matched by this geocoder: "incidents" matches
# the community's own incident block addresses (offline), "none" turns typing off.
BEACON_GEOCODER = env_choice("BEACON_GEOCODER", "incidents", ("incidents", "none"))

# The public address of this site, for links in emails, calendars and feeds.
BEACON_SITE_URL = env_str("BEACON_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not BEACON_SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"BEACON_SITE_URL={BEACON_SITE_URL!r} must start with http:// or https://."
    )
# Mentees' records are deleted this many days after they leave a program.
BEACON_YOUTH_RETENTION_DAYS = env_int("BEACON_YOUTH_RETENTION_DAYS", 365, minimum=30)
# Partner agreements get a renewal reminder this many days before they expire.
BEACON_AGREEMENT_RENEWAL_DAYS = env_int("BEACON_AGREEMENT_RENEWAL_DAYS", 60, minimum=1)

# Alerts: SMS goes to a provider-neutral HTTP endpoint (empty: SMS off); webhooks to
# private addresses are refused unless allowed (labs and tests).
BEACON_SMS_URL = env_str("BEACON_SMS_URL", "")
BEACON_SMS_TOKEN = env_str("BEACON_SMS_TOKEN", "")
BEACON_WEBHOOK_ALLOW_PRIVATE = env_bool("BEACON_WEBHOOK_ALLOW_PRIVATE", False)
BEACON_WEBHOOK_TIMEOUT = env_int("BEACON_WEBHOOK_TIMEOUT", 5, minimum=1, maximum=60)
BEACON_OUTBOX_BATCH = env_int("BEACON_OUTBOX_BATCH", 20, minimum=1, maximum=1000)
BEACON_OUTBOX_LEASE_SECONDS = env_int("BEACON_OUTBOX_LEASE_SECONDS", 600, minimum=1)
BEACON_OUTBOX_MAX_ATTEMPTS = env_int("BEACON_OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
BEACON_OUTBOX_BACKOFF = env_int("BEACON_OUTBOX_BACKOFF", 30, minimum=0)
BEACON_INCIDENT_ALERT_MAX_AGE_DAYS = env_int("BEACON_INCIDENT_ALERT_MAX_AGE_DAYS", 7, minimum=0)

# Shared state that must hold across web processes (report rate limits): a database
# table by default, so nothing extra has to run; Redis when BEACON_REDIS_URL is set.
_REDIS_URL = env_str("BEACON_REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_URL}
        if _REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "beacon_cache",
            # Django culls a full table in key order, which would drop live rate-limit
            # counters (and reset everyone's limits) once 300 clients were seen.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "beacon.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("BEACON_LOG_LEVEL", "INFO")},
    "loggers": {
        # The access log line carries client addresses; Beacon's own logging never does.
        "django.server": {"level": "WARNING"},
    },
}
# Error reports (mailed to ADMINS, shown under DEBUG) keep no header, cookie or form
# value: a tipster's address, user agent or passphrase must never land in an inbox.
DEFAULT_EXCEPTION_REPORTER_FILTER = "beacon.core.reporting.PrivateExceptionReporterFilter"
BEACON_TWO_FACTOR_URL = "/accounts/two-factor/"

if BEACON_ENV == "test" and "BEACON_TASK_BACKEND" not in __import__("os").environ:
    # Tests run enqueued work at once; the worker's own tests use the database backend.
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

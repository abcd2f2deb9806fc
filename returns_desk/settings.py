"""Settings for Returns Desk, read from the environment.

Development defaults are safe to run on a laptop; production values (SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL, mail) must be given explicitly, and `manage.py check --deploy` says what is missing.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The fallback key only ever signs development sessions: check --deploy flags it (security.W009).
SECRET_KEY = env("SECRET_KEY", "django-insecure-returns-desk-development-only-key-do-not-deploy")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "ninja",
    "axes",
    "returns_desk",
    "inspection",
    "disposition",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: the browser's Accept-Language picks the language.
    "django.middleware.locale.LocaleMiddleware",
    "returns_desk.configcache.ConfigTokenMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "returns_desk.middleware.LostRaceMiddleware",
    "returns_desk.middleware.StationMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "returns_desk.urls"
WSGI_APPLICATION = "returns_desk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "returns_desk.context_processors.desk",
            ],
        },
    },
]


def database(url: str) -> dict:
    """One DATABASES entry from a URL, with what this app needs of each engine."""
    config = dj_database_url.parse(
        url, conn_max_age=int(env("CONN_MAX_AGE", "60")), conn_health_checks=True
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Every query here is a short OLTP read or write; PostgreSQL's JIT compiles any plan its
        # estimates call expensive, and spent ~20 ms compiling a queue page's 10 ms query.
        config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
        # Planning the desk's joins cost PostgreSQL about as much as running them (1.8-2.6 ms
        # each). With server-side binding psycopg prepares a statement a connection has run five
        # times, and its plan is reused for as long as the connection lives (CONN_MAX_AGE).
        # PgBouncer before 1.21 in transaction mode loses prepared statements between
        # transactions: turn it off there.
        if env_bool("DB_PREPARED_STATEMENTS", True):
            config["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        (BASE_DIR / "var").mkdir(exist_ok=True)
        # IMMEDIATE takes the write lock when a transaction starts, so two stations never both
        # read "not received yet" and then both write; WAL lets readers go on while one writes.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
        config["TEST"] = {"NAME": str(BASE_DIR / "var" / "test_returns_desk.sqlite3")}
    return config


DATABASES = {
    "default": database(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'returns_desk.sqlite3'}")
    )
}
# A streaming replica of the primary, if there is one: reports read there (returns_desk.replica).
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database(env("DATABASE_REPLICA_URL")) | {"TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["returns_desk.replica.ReportsRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed logins before Django's backend checks the password, so a locked-out
# username and address pair is refused even with the right password until the cool-off ends.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "returns_desk.auth.CachedPermissionsBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
# Username and address together: a clerk mistyping at one station does not lock out colleagues
# sharing the warehouse's address, and guessing one user's password from many addresses is
# still slowed per address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The same client address as the tracking page's limits (TRACK_CLIENT_IP_HEADER behind a proxy).
AXES_CLIENT_IP_CALLABLE = "returns_desk.track.client_address"
# Its start-up banner would bury the demo logins that `make run` prints.
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# The languages a browser may ask for. Their dates and numbers come from Django's formats; a
# language without a catalogue in LOCALE_PATHS shows its formats with the English words.
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["returns_desk.formats"]
TIME_ZONE = env("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 60 * 60  # one shift
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Mail goes to the console while developing; production sends by SMTP from the environment.
_MAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": _MAIL_BACKEND}}
if _MAIL_BACKEND.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env("EMAIL_HOST", "localhost"),
        "port": int(env("EMAIL_PORT", "25")),
        "username": env("EMAIL_HOST_USER"),
        "password": env("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        # Customer e-mails go out from the worker (deliver_webhooks): without a timeout a mail
        # server that accepts the connection and then hangs holds the worker, and its lease
        # (notifications.LEASE) lapses while the mail may still go out.
        "timeout": int(env("EMAIL_TIMEOUT", "10")),
    }
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "returns@localhost")
# Attempts at a customer e-mail before it is marked failed (an admin can send it again); the
# retries wait as webhook retries do (WEBHOOK_BACKOFF_SECONDS, doubling, capped). 13 attempts
# span about 20 hours at the default backoff: a mail server down overnight loses no mail.
CUSTOMER_EMAIL_MAX_ATTEMPTS = int(env("CUSTOMER_EMAIL_MAX_ATTEMPTS", "13"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Receiving: how many recent scans a station lists, and the longest code a scanner may send.
RECENT_SCANS_SHOWN = 10

# Inspection: evidence photos are capped in size and lose their EXIF (GPS, device serials)
# unless it is kept on purpose.
INSPECTION_PHOTO_MAX_BYTES = int(env("INSPECTION_PHOTO_MAX_BYTES", str(8 * 1024 * 1024)))
INSPECTION_KEEP_EXIF = env_bool("INSPECTION_KEEP_EXIF", False)

# Integration. Cache: rate limits of the public tracking page, shared by every app server
# through the database (run `manage.py createcachetable` once, as scripts/serve.sh does).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "returns_desk_cache",
    }
}
# The dashboard's figures since its last rolled-up hour are shared by every supervisor's request
# for this long: they are at most this many seconds old, plus the moment one request takes to
# count them again (0: counted on every request).
DASHBOARD_LIVE_SECONDS = int(env("DASHBOARD_LIVE_SECONDS", "30"))
# Links in customer e-mails point here.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# The API's change feed leaves out the last few seconds, so a transaction still committing
# (its updated_at already set) is never skipped by a poller that moved past it.
API_CHANGES_SETTLE_SECONDS = int(env("API_CHANGES_SETTLE_SECONDS", "5"))
# Webhooks: attempts before a delivery is dead-lettered, first retry delay (doubling after),
# the longest delay, and how long a receiver may take to answer.
WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_BACKOFF_SECONDS = int(env("WEBHOOK_BACKOFF_SECONDS", "30"))
WEBHOOK_BACKOFF_MAX_SECONDS = int(env("WEBHOOK_BACKOFF_MAX_SECONDS", str(6 * 60 * 60)))
WEBHOOK_TIMEOUT_SECONDS = int(env("WEBHOOK_TIMEOUT_SECONDS", "10"))
# New events wait this long before delivery, so one still committing keeps its place in line.
WEBHOOK_SETTLE_SECONDS = int(env("WEBHOOK_SETTLE_SECONDS", "2"))
# manage.py close_rmas: how long after its window a partly received return waits for the rest.
RMA_LATE_PARCEL_DAYS = int(env("RMA_LATE_PARCEL_DAYS", "30"))
# Tracking page: lookups allowed per client IP and per RMA number within the window.
TRACK_RATE_PER_IP = int(env("TRACK_RATE_PER_IP", "20"))
TRACK_RATE_PER_RMA = int(env("TRACK_RATE_PER_RMA", "10"))
TRACK_RATE_WINDOW_SECONDS = int(env("TRACK_RATE_WINDOW_SECONDS", "600"))
# Behind a proxy: the request header it puts the client address in, e.g. HTTP_X_FORWARDED_FOR.
TRACK_CLIENT_IP_HEADER = env("TRACK_CLIENT_IP_HEADER", "")

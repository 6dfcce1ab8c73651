"""Deskloop settings: one file, everything from the environment, SQLite under ./var/ by default."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from deskloop.config.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("DESKLOOP_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("DESKLOOP_REQUIRE_SECRET_KEY", False):
        raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) must be set in production")
    # Development only: make run and the test suite need no configuration.
    SECRET_KEY = "deskloop-insecure-development-key-change-me"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
# Host names of workspaces' help centers ("help.acme.example,support.globex.example") this installation answers:
# each is allowed as a Host and, when it is a HelpCenter.host_name, served that help center at / (knowledge/helpcenter/
# hosts.py). A list the operator writes, not a lookup of whatever Host arrives, so host validation stays strict.
DESKLOOP_HELP_CENTER_HOSTS = [h.lower() for h in env_list("DESKLOOP_HELP_CENTER_HOSTS", [])]
ALLOWED_HOSTS = [*ALLOWED_HOSTS, *DESKLOOP_HELP_CENTER_HOSTS]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# The sign-up page ("Create your workspace") exists only until the first workspace does; this keeps it open for
# installations that host workspaces for others.
OPEN_SIGNUP = env_bool("DESKLOOP_OPEN_SIGNUP", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # only for its static files: the API docs' Swagger UI is served from here, never from a CDN
    "deskloop.core",
    "deskloop.accounts",
    "deskloop.calendars",
    "deskloop.customers",
    "deskloop.tickets",
    "deskloop.knowledge",
    "deskloop.ideas",
    "deskloop.classification",
    "deskloop.service_levels",
    "deskloop.assignment",
    "deskloop.revenue",
    "deskloop.surveys",
    "deskloop.quality",
    "deskloop.insights",
    "deskloop.staffing",
    "deskloop.webhooks",
    "deskloop.channels.email",
    "deskloop.channels.portal",
    "deskloop.channels.widget",
    "deskloop.automations",
    "deskloop.reports",
    "deskloop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "deskloop.knowledge.helpcenter.hosts.HelpCenterHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "deskloop.core.middleware.RefuseNulInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "deskloop.core.security_headers.SecurityHeadersMiddleware",
    "deskloop.accounts.middleware.AgentLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "deskloop.config.urls"
WSGI_APPLICATION = "deskloop.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "tickets:inbox"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "deskloop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "deskloop.accounts.context_processors.current_agent",
            ],
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "deskloop.sqlite3"),
            # WAL lets the web process read while the task worker writes; IMMEDIATE makes write
            # transactions take the lock up front so two writers queue instead of failing mid-way.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "deskloop_cache"}}
if env_str("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL")}}

TASKS = {"default": {"BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env_list(
    "PASSWORD_HASHERS",
    ["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "deskloop" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The shared layout's files (htmx, app.css/js, page scripts) live outside any app's static/ folder.
STATICFILES_DIRS = [BASE_DIR / "deskloop" / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Deskloop <deskloop@localhost>")
# Every outgoing email (replies, notifications) goes through this one backend; mailboxes have no SMTP settings.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

SESSION_COOKIE_HTTPONLY = True
# DESKLOOP_HTTPS=1: the site is served over HTTPS only (docs/operations.md), so `check --deploy` is clean.
DESKLOOP_HTTPS = env_bool("DESKLOOP_HTTPS", False)
SECURE_SSL_REDIRECT = DESKLOOP_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if DESKLOOP_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", DESKLOOP_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", DESKLOOP_HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", DESKLOOP_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For names the client
# (core.client_ip). Empty: the direct peer is the client and the header is ignored.
DESKLOOP_TRUSTED_PROXIES = env_list("DESKLOOP_TRUSTED_PROXIES", [])
if DESKLOOP_TRUSTED_PROXIES:
    # Behind a trusted TLS-terminating proxy the request arrives over HTTP; only then is its header believed.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Product limits an operator may tune per installation (not per workspace).
DESKLOOP_ATTACHMENT_MAX_BYTES = env_int("DESKLOOP_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
# Sign-in tries per window: per account from one client address, per address over any accounts, per account from
# anywhere (past that, one try per address; see accounts.signin_throttle).
DESKLOOP_LOGIN_ATTEMPTS = env_int("DESKLOOP_LOGIN_ATTEMPTS", 5)
DESKLOOP_LOGIN_IP_ATTEMPTS = env_int("DESKLOOP_LOGIN_IP_ATTEMPTS", 30)
DESKLOOP_LOGIN_ACCOUNT_ATTEMPTS = env_int("DESKLOOP_LOGIN_ACCOUNT_ATTEMPTS", 50)
DESKLOOP_LOGIN_WINDOW_SECONDS = env_int("DESKLOOP_LOGIN_WINDOW_SECONDS", 300)
# Requests per minute to the public self-service endpoints (help center, portal, widget), per client address and
# per workspace from all addresses: (per address, per workspace). See core/public_limits.py.
DESKLOOP_PUBLIC_RATE_LIMITS = {
    "search": (env_int("DESKLOOP_PUBLIC_SEARCH_PER_IP", 60), env_int("DESKLOOP_PUBLIC_SEARCH_PER_WORKSPACE", 3000)),
    "submit": (env_int("DESKLOOP_PUBLIC_SUBMIT_PER_IP", 5), env_int("DESKLOOP_PUBLIC_SUBMIT_PER_WORKSPACE", 120)),
    "signin_link": (env_int("DESKLOOP_PUBLIC_SIGNIN_PER_IP", 5), env_int("DESKLOOP_PUBLIC_SIGNIN_PER_WORKSPACE", 120)),
    "feedback": (
        env_int("DESKLOOP_PUBLIC_FEEDBACK_PER_IP", 20),
        env_int("DESKLOOP_PUBLIC_FEEDBACK_PER_WORKSPACE", 600),
    ),
    # Ideas: votes, new ideas and comments from the portal, the widget and the public board.
    "vote": (env_int("DESKLOOP_PUBLIC_VOTE_PER_IP", 30), env_int("DESKLOOP_PUBLIC_VOTE_PER_WORKSPACE", 1200)),
    # Survey answers (one-click email links, the widget's NPS and micro-surveys).
    "survey": (env_int("DESKLOOP_PUBLIC_SURVEY_PER_IP", 30), env_int("DESKLOOP_PUBLIC_SURVEY_PER_WORKSPACE", 3000)),
}
# Customer portal (channels/portal): how long a magic sign-in link works, how long a contact stays signed in, and
# how many files one portal message may carry (each within DESKLOOP_ATTACHMENT_MAX_BYTES).
DESKLOOP_PORTAL_LINK_SECONDS = env_int("DESKLOOP_PORTAL_LINK_SECONDS", 15 * 60)
DESKLOOP_PORTAL_SESSION_SECONDS = env_int("DESKLOOP_PORTAL_SESSION_SECONDS", 7 * 24 * 3600)
DESKLOOP_PORTAL_MAX_ATTACHMENTS = env_int("DESKLOOP_PORTAL_MAX_ATTACHMENTS", 5)
# Seconds a web process answers suggestions from its in-memory article index before checking for edits
# (knowledge/suggestions.py); 0 checks on every question.
DESKLOOP_SUGGESTION_RECHECK_SECONDS = env_int("DESKLOOP_SUGGESTION_RECHECK_SECONDS", 1)
# After an edit, the old index answers while a thread of the web process rebuilds it (knowledge/suggestions.py).
DESKLOOP_SUGGESTION_BACKGROUND_REBUILD = env_bool("DESKLOOP_SUGGESTION_BACKGROUND_REBUILD", True)
# The deflection sweep (knowledge/services/deflection_sweep.py): a request session idle this long is over; one that
# ended without a ticket is a verified deflection once this many hours pass with no ticket from that customer.
DESKLOOP_REQUEST_IDLE_MINUTES = env_int("DESKLOOP_REQUEST_IDLE_MINUTES", 30)
DESKLOOP_DEFLECTION_WINDOW_HOURS = env_int("DESKLOOP_DEFLECTION_WINDOW_HOURS", 72)
DESKLOOP_API_RATE_PER_MINUTE = env_int("DESKLOOP_API_RATE_PER_MINUTE", 600)
DESKLOOP_TRASH_DAYS = env_int("DESKLOOP_TRASH_DAYS", 30)
# "Test connection" and fetching refuse IMAP hosts on private or local addresses (the webhooks' address policy);
# an installation whose own mail server sits on its private network turns this on (docs/operations.md).
DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS = env_bool("DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS", False)
# /healthz fails (503) when a task has been due this long without a worker claiming it.
DESKLOOP_HEALTH_TASK_DELAY_SECONDS = env_int("DESKLOOP_HEALTH_TASK_DELAY_SECONDS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

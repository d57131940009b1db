"""Settings for CSP Storefront, read from the environment (see README, "Configuration")."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("STOREFRONT_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to at least 50 random characters in production."
        )
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must list the storefront's host names in production."
        )
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghijklmnop"
    )
    ALLOWED_HOSTS = env.list(
        "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "django_countries",
    "storefront.accounts",
    "storefront.configuration",
    "storefront.customers",
    "storefront.catalog",
    "storefront.checkout",
    "storefront.dashboard",
    "storefront.api",
    "storefront.events",
    "csp",
    "csp.sandbox",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.PartnerCenterAnswersWithin",
]

ROOT_URLCONF = "storefront.urls"
WSGI_APPLICATION = "storefront.wsgi.application"

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
                "storefront.configuration.context_processors.storefront",
                "csp.context_processors.partner_center",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'storefront.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["storefront.accounts.backends.EmailBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A task a killed worker had taken (acks_late) goes back to the queue after this many seconds; it must exceed
    # the longest task (CELERY_TASK_TIME_LIMIT), or a slow task would be handed to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        "socket_connect_timeout": 2,
    }
    # Work is queued inside web requests (Place order, the API's POST /orders/, the webhook receiver), which keep
    # it for beat's resume pass or polling when queueing fails: with Redis down they must fail within seconds, not
    # wait for the result store's 20 reconnections (about 19 s) or a connect that never answers.
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
# An order no worker has advanced for ORDER_STALL_SECONDS is queued again by beat (checked every
# ORDER_RESUME_SECONDS): a dead worker's order completes within about the sum of the two (80 s by default).
ORDER_STALL_SECONDS = env.int("ORDER_STALL_SECONDS", default=60)
ORDER_RESUME_SECONDS = env.float("ORDER_RESUME_SECONDS", default=20.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CSP Storefront <storefront@example.com>")

PARTNER_CENTER_MODE = env.str("PARTNER_CENTER_MODE", default="sandbox")
if PARTNER_CENTER_MODE not in {"sandbox", "live"}:
    raise ImproperlyConfigured("PARTNER_CENTER_MODE must be 'sandbox' or 'live'.")
PARTNER_CENTER_SANDBOX_URL = env.str("PARTNER_CENTER_SANDBOX_URL", default="http://127.0.0.1:8765")
PARTNER_CENTER_API_URL = env.str("PARTNER_CENTER_API_URL", default="https://api.partnercenter.microsoft.com")
# The price list and offer matrix live on a second host with its own token audience (App+User only).
PARTNER_CENTER_SALES_API_URL = env.str(
    "PARTNER_CENTER_SALES_API_URL", default="https://api.partner.microsoft.com"
)
MICROSOFT_LOGIN_URL = env.str("MICROSOFT_LOGIN_URL", default="https://login.microsoftonline.com")
MICROSOFT_GRAPH_URL = env.str("MICROSOFT_GRAPH_URL", default="https://graph.microsoft.com")
PARTNER_CENTER_TENANT_ID = env.str("PARTNER_CENTER_TENANT_ID", default="d1570b00-0000-4000-8000-000000000001")
PARTNER_CENTER_CLIENT_ID = env.str("PARTNER_CENTER_CLIENT_ID", default="sandbox-client")
PARTNER_CENTER_CLIENT_SECRET = env.str("PARTNER_CENTER_CLIENT_SECRET", default="")
PARTNER_CENTER_REFRESH_TOKEN = env.str("PARTNER_CENTER_REFRESH_TOKEN", default="")
PARTNER_CENTER_TIMEOUT = env.float("PARTNER_CENTER_TIMEOUT", default=30.0)
# All of one web request's calls to Microsoft together (csp/middleware.py), below gunicorn's 30 s.
PARTNER_CENTER_PAGE_SECONDS = 20.0
PARTNER_CENTER_WEBHOOK_CERTIFICATE_URL_PREFIX = env.str(
    "PARTNER_CENTER_WEBHOOK_CERTIFICATE_URL_PREFIX",
    default="https://3psostorageacct.blob.core.windows.net/cert/",
)
PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = env.str("PARTNER_CENTER_TOKEN_ENCRYPTION_KEY", default="")
if PARTNER_CENTER_MODE == "live" and not (PARTNER_CENTER_CLIENT_SECRET and PARTNER_CENTER_CLIENT_ID):
    raise ImproperlyConfigured(
        "PARTNER_CENTER_MODE=live needs PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET."
    )
DISTRIBUTOR_NAME = env.str("DISTRIBUTOR_NAME", default="Northwind Distribution")
DISTRIBUTOR_MPN_ID = env.str("DISTRIBUTOR_MPN_ID", default="5123456")
STOREFRONT_BASE_URL = env.str("STOREFRONT_BASE_URL", default="http://127.0.0.1:8000")
# The Partner Center webhook receiver: largest body, deliveries per client address, unsigned deliveries kept.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
WEBHOOK_RATE_LIMIT = env.str("WEBHOOK_RATE_LIMIT", default="60/m")
WEBHOOK_REJECTED_KEPT = env.int("WEBHOOK_REJECTED_KEPT", default=1000)

# Event notifications to resellers' systems (storefront/events/): public HTTPS addresses only. The sandbox demo and the
# tests may allow loopback (http://127.0.0.1:...) so a local receiver works; production refuses it.
EVENT_ENDPOINTS_ALLOW_LOOPBACK = env.bool(
    "EVENT_ENDPOINTS_ALLOW_LOOPBACK", default=not PRODUCTION and PARTNER_CENTER_MODE == "sandbox"
)
if PRODUCTION and EVENT_ENDPOINTS_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("EVENT_ENDPOINTS_ALLOW_LOOPBACK cannot be set in production.")
EVENT_DELIVERY_TIMEOUT = env.float("EVENT_DELIVERY_TIMEOUT", default=5.0)
EVENT_RECEIVER_URL = env.str("EVENT_RECEIVER_URL", default="http://127.0.0.1:8766")
# Deliveries run on their own queue (the Procfile's and compose's `events` worker), never ahead of orders.
CELERY_TASK_ROUTES = {"storefront.events.tasks.*": {"queue": "events"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "lookup": env.str("LOOKUP_THROTTLE_RATE", default="60/min"),
        "token": env.str("TOKEN_THROTTLE_RATE", default="20/min"),
    },
    "EXCEPTION_HANDLER": "storefront.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CSP Storefront API",
    "DESCRIPTION": "Order Microsoft cloud services for your end-customers without a browser.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENFORCE_NON_BLANK_FIELDS": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "storefront.api.schema.postprocess",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Celery beat: background verification, network cache, expiry and GDAP follow-up ------------------------------
# The polling pass runs every minute but only checks the authorizations whose next_check_at is due (the
# configured polling interval, with backoff), so a frequent beat costs nothing when nothing is due.
CELERY_BEAT_SCHEDULE = {
    "poll-pending-authorizations": {"task": "csp.tasks.authorizations_poll", "schedule": 60.0},
    "refresh-reseller-network": {"task": "csp.tasks.network_refresh", "schedule": 30 * 60.0},
    "expire-authorizations": {"task": "csp.tasks.authorizations_expire", "schedule": 60 * 60.0},
    "follow-gdap-requests": {"task": "csp.tasks.gdap_requests_follow", "schedule": 5 * 60.0},
    "follow-order-fulfilment": {"task": "csp.tasks.orders_follow_fulfilment", "schedule": 15.0},
    "watch-partner-center-connection": {
        "task": "csp.tasks.partner_center_connection_watch",
        "schedule": 6 * 3600.0,
    },
    "event-deliveries-due": {"task": "storefront.events.tasks.deliveries_due", "schedule": 10.0},
    "resume-stalled-orders": {"task": "csp.tasks.orders_resume_stalled", "schedule": ORDER_RESUME_SECONDS},
    # Microsoft publishes the price list on the 1st; the daily run catches mid-month republishes (an unchanged
    # file is skipped by its hash).
    "import-price-lists-monthly": {
        "task": "storefront.catalog.tasks.price_lists_refresh",
        "schedule": crontab(minute=30, hour=0, day_of_month=1),
    },
    "check-price-lists-daily": {
        "task": "storefront.catalog.tasks.price_lists_refresh",
        "schedule": crontab(minute=0, hour=4),
    },
}

# Hardening (issue 12): sign-in lockout, API tokens, emails, Content-Security-Policy --------------------------
INSTALLED_APPS += ["axes", "knox"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
MIDDLEWARE.insert(1, "storefront.security.ContentSecurityPolicyMiddleware")
# Everything from this site only; no inline script or style (storefront/security.py). `data:` images: the favicon.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Axes first: it refuses a locked-out (email, address) before any password is checked, on every door.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_HANDLER = "storefront.accounts.signin.SignInLockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=5)  # per (email, address)
SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int("SIGN_IN_ADDRESS_FAILURE_LIMIT", default=50)  # per address alone
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", default=15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # only the (email, address) pair: see SignInLockoutHandler.reset_user_attempts
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "storefront.accounts.signin.username"
AXES_CLIENT_IP_CALLABLE = "storefront.accounts.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "storefront.accounts.signin.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address"]
AXES_VERBOSE = False
# Behind a proxy every sign-in comes from the proxy's address: name the header it sets (e.g. HTTP_X_REAL_IP).
SIGN_IN_CLIENT_IP_HEADER = env.str("DJANGO_CLIENT_IP_HEADER", default="")

KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own migrations create its default token table even when the model is swapped: ours is the only one.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "storefront.api.authentication.ApiTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]

PASSWORD_RESET_TIMEOUT = 60 * 60 * 3  # a reset link works for three hours
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/h")  # per address and per email

# "Email the link": per user and per recipient each day; recipients on these domains are refused.
STOREFRONT_EMAIL_LINKS_PER_USER_PER_DAY = env.int("STOREFRONT_EMAIL_LINKS_PER_USER_PER_DAY", default=30)
STOREFRONT_EMAIL_LINKS_PER_RECIPIENT_PER_DAY = env.int(
    "STOREFRONT_EMAIL_LINKS_PER_RECIPIENT_PER_DAY", default=3
)
STOREFRONT_EMAIL_REFUSED_DOMAINS = [
    d.strip().lower().lstrip("@")
    for d in env.list("STOREFRONT_EMAIL_REFUSED_DOMAINS", default=[])
    if d.strip()
]

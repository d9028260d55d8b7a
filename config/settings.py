"""Settings for 保价, read from the environment.

With nothing set, everything runs on one machine with no servers: SQLite in WAL mode and kombu's
``filesystem://`` broker under ``var/``. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` move the same
code onto PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def env_bool(name: str, *, default: bool) -> bool:
    """A strict boolean: django-environ reads any unknown word as False; this refuses it."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION:
    # No production default for a secret: a missing key stops the process.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    "alipay",
    "notices",
    "shops",
    "orders",
    "insurance",
    "claims",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a clear refusal.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.buyer.notices.unread_notices",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_OPTIONS = {
    # The web process and the worker share one file: WAL and immediate transactions keep
    # writers from deadlocking each other ("database is locked").
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # Tests use a file (not :memory:) so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
elif DATABASES["default"]["ENGINE"] in {
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
}:
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured("DATABASE_URL must point at SQLite or PostgreSQL")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (the API's throttles) ------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades instead of failing: while Redis is down the throttles count in each process's
            # memory and a warning is logged; filing and logging in go on (core/cache.py).
            "BACKEND": "core.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "REDIS_DOWN_RETRY_SECONDS": env.float("REDIS_DOWN_RETRY_SECONDS", default=5.0),
            # A Redis that does not answer costs a request at most this long, not the OS's minutes.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "baojia_cache",
        }
    }

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The web login; the admin keeps its own at /admin/login/. "home" sends each role to its page.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed logins for the same account from the same address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # With the manifest (make run, production) static files get content-hashed names, so WhiteNoise
    # serves them compressed with far-future cache headers; it needs `collectstatic` first.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("DJANGO_STATIC_MANIFEST", default=PRODUCTION)
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request is answered 401 with "WWW-Authenticate: Token" (with
    # session authentication first DRF would answer 403, having no header to offer).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.api.ApiSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["core.parsers.DepthLimitedJSONParser"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Throttles count in the default cache (database cache, or Redis when REDIS_URL is set).
    "DEFAULT_THROTTLE_RATES": {
        "claims": env.str("API_CLAIMS_THROTTLE_RATE", default="30/min"),
        "auth": env.str("API_AUTH_THROTTLE_RATE", default="20/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "保价 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "DESCRIPTION": (
        "Price protection (保价) for Juhuasuan campaigns. Authenticate with `Authorization: Token …` "
        "(POST /api/v1/auth/token/) or a session. Money is integer fen with a formatted `*_display`. "
        'Every error is `{"code": …, "detail": …}`.'
    ),
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The Swagger UI is served from the drf-spectacular-sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStateEnum": "orders.models.OrderState",
        "CampaignStateEnum": "orders.models.CampaignState",
        "PolicyStateEnum": "insurance.models.PolicyState",
        "ClaimStateEnum": "claims.models.ClaimState",
    },
}

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("in", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder for in and out: the producer writes where the consumer reads.
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A message a dead worker held comes back after this many seconds (the work itself does not
    # wait for it: beat's sweep re-sends from the database). Longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
    if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < 1:
        raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be a positive number of seconds")
else:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be filesystem:// or redis://")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only when it finished, and comes back if its worker died: every task
# is idempotent, so running twice is harmless and losing one is not.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish that cannot reach the broker gives up within a second: the row in the database is the
# record of the work, and the periodic sweep sends it again once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.4,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "campaigns-advance": {"task": "orders.tasks.campaigns_advance", "schedule": timedelta(seconds=30)},
    "orders-close-unpaid": {"task": "orders.tasks.orders_close_unpaid", "schedule": timedelta(minutes=1)},
    "insurance-windows": {
        "task": "insurance.tasks.policy_windows_advance",
        "schedule": timedelta(seconds=30),
    },
    "claims-sweep": {"task": "claims.tasks.claims_sweep", "schedule": timedelta(seconds=30)},
    "claims-settle": {"task": "claims.tasks.claims_settle", "schedule": timedelta(seconds=15)},
    "summaries-refresh": {"task": "claims.tasks.summaries_refresh", "schedule": timedelta(seconds=30)},
    "reconcile-daily": {"task": "claims.tasks.reconcile", "schedule": crontab(hour=3, minute=0)},
    "price-drops-detect": {
        "task": "claims.tasks.price_drops_detect",
        "schedule": timedelta(seconds=env.int("BAOJIA_DETECT_EVERY_SECONDS", default=120)),
    },
    "price-drops-follow-up": {
        "task": "claims.tasks.price_drops_follow_up",
        "schedule": timedelta(minutes=5),
    },
    "notices-email": {"task": "notices.tasks.notices_email_pending", "schedule": timedelta(minutes=1)},
    "idempotency-keys-purge": {
        "task": "core.tasks.idempotency_keys_purge",
        "schedule": crontab(hour=4, minute=0),
    },
}

# --- Product rules that are configuration, not code -----------------------------------------
BAOJIA = {
    # Unpaid orders (evidence orders among them) close by themselves after this long.
    "UNPAID_ORDER_TIMEOUT": env.int("BAOJIA_UNPAID_ORDER_TIMEOUT_MINUTES", default=30),
    # Deposit a seller must hold before coverage can be switched on, in fen.
    "MIN_DEPOSIT_FEN": env.int("BAOJIA_MIN_DEPOSIT_FEN", default=50_000),
    # Rows per statement in campaign-sized batches.
    "BATCH_SIZE": env.int("BAOJIA_BATCH_SIZE", default=5_000),
    # A claim still 'submitted' after this many seconds is queued again by the sweep.
    "STUCK_CLAIM_SECONDS": env.int("BAOJIA_STUCK_CLAIM_SECONDS", default=60),
    # The summary rollup re-reads changes this recent (clock skew between app and database).
    "SUMMARY_SAFETY_SECONDS": env.int("BAOJIA_SUMMARY_SAFETY_SECONDS", default=60),
    # What the buyer is told to expect: a claim in review is decided within this many hours.
    "REVIEW_EXPECTED_HOURS": env.int("BAOJIA_REVIEW_EXPECTED_HOURS", default=24),
    # 自动理赔: the platform files for the buyer this long before the claim window closes.
    "AUTO_CLAIM_MARGIN_MINUTES": env.int("BAOJIA_AUTO_CLAIM_MARGIN_MINUTES", default=360),
    # A buyer with a detected drop still unclaimed hears this long before the window closes.
    "WINDOW_CLOSING_NOTICE_HOURS": env.int("BAOJIA_WINDOW_CLOSING_NOTICE_HOURS", default=48),
    # Policies per statement when detection writes drops.
    "DETECTION_BATCH_SIZE": env.int("BAOJIA_DETECTION_BATCH_SIZE", default=50_000),
    # A seller whose insurance deposit falls below this hears about it (fen).
    "DEPOSIT_LOW_FEN": env.int("BAOJIA_DEPOSIT_LOW_FEN", default=100_000),
    # Links in e-mails point here.
    "SITE_URL": env.str("BAOJIA_SITE_URL", default="http://127.0.0.1:8000"),
}

# --- E-mail (notices) -----------------------------------------------------------------------
# Console by default: nothing leaves the machine. EMAIL_BACKEND=smtp with EMAIL_HOST (and the
# usual EMAIL_* variables) sends for real; "file" writes each message under var/mail/.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = env.str("EMAIL_BACKEND", default="console")
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)}, not {_email_backend!r}"
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_backend]
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="保价 <noreply@baojia.local>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

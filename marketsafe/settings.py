"""Settings, all read from the environment.

`MARKETSAFE_ENV` picks the mode: `development` (the default: DEBUG on, console e-mail, insecure
development key) or `production` (DEBUG off, secrets required from the environment, HTTPS-only
cookies, HSTS). `manage.py check --deploy` reports nothing in production mode.

`DATABASE_URL` and `REDIS_URL` always point at a real PostgreSQL and a real Redis: when they are not
set, `python -m devtools.devenv` starts embedded ones and sets them (see README).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.csp import CSP
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

MARKETSAFE_ENV = env.str("MARKETSAFE_ENV", default="development")
if MARKETSAFE_ENV not in {"development", "production"}:
    raise environ.ImproperlyConfigured("MARKETSAFE_ENV must be 'development' or 'production'")
PRODUCTION = MARKETSAFE_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

# The development default is only ever used on a developer's machine; production refuses to start without it.
SECRET_KEY = env.str("SECRET_KEY") if PRODUCTION else env.str("SECRET_KEY", default="development-only-" + "k" * 50)

# The key of sellers' identifiers' hashes (listings.identifiers): in production its own secret, so that the
# stored digests say nothing without it; in development derived from SECRET_KEY. Changing it orphans the
# stored digests until the marketplaces push their sellers again.
SELLER_IDENTIFIER_KEY = (
    env.str("SELLER_IDENTIFIER_KEY")
    if PRODUCTION
    else env.str("SELLER_IDENTIFIER_KEY", default="seller-identifiers-" + SECRET_KEY)
)
if len(SELLER_IDENTIFIER_KEY) < 32:
    raise environ.ImproperlyConfigured("SELLER_IDENTIFIER_KEY must have at least 32 characters")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin with a site that asks staff for a second factor when STAFF_REQUIRE_2FA is on.
    "core.admin.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as static files (no CDN)
    "django_filters",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "core",  # shared template tags (charts) and static files
    "core.accounts",
    "core.audit",
    "core.mail",
    "brands.api",  # API tokens (app label `api`)
    "listings",
    "brands",
    "cases",
    "safeguards",  # risk rules above cases: evaluation, second approvals, backtests (issue 18)
    "detection",  # stay-down: banks of upheld removals, re-listing candidates (above cases, below the edge)
    "investigations",  # test purchases, seller networks, referral dossiers (above cases and detection)
    "integrations",  # service tokens, the platform API, webhooks, DSA and Lumen exports
    "reports",  # staff reports: the SLA page and the program report
    "marketsafe",  # wiring: the demo data command (seed_demo)
]

MIDDLEWARE = [
    # Before everything: counts and times every request, those refused by the middleware below included.
    "core.metrics.RequestMetricsMiddleware",
    # First: a body over REQUEST_MAX_BYTES is refused before anything reads it.
    "core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Saves a session that was only read at most every SESSION_REFRESH_SECONDS (core/sessions.py).
    "core.sessions.SessionRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Remembers the brand a member last opened, which their browser's API calls act in.
    "brands.api.middleware.CurrentBrandMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the view into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketsafe.urls"
WSGI_APPLICATION = "marketsafe.wsgi.application"

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
                "brands.context_processors.brand_switcher",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A backend whose client vanished (a worker killed mid-statement) notices within 2 s even while it waits
# for a lock, and ends: its locks, among them a delisting chunk's claim lock, are released with it.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c client_connection_check_interval=2000".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "marketsafe",
        # A cache that does not answer fails fast (the throttles then let requests through, see
        # core/api/throttling.py) instead of holding the request for the operating system's timeouts.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out username and address before any password is checked.
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
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates as "4 Dec 2026, 18:29 UTC" (marketsafe/formats/en/formats.py), not "Dec. 4, 2026, 6:29 p.m.", whose
# abbreviation dots read as "p.m.." at the end of a sentence.
FORMAT_MODULE_PATH = ["marketsafe.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Evidence and rights documents: never under a web-served path; served by views that apply the tenant scope.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / ".data" / "private-media")},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Development and tests serve static files straight from the app folders; production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
# Files per request: a filing's evidence (cases.forms.MAX_EVIDENCE_FILES, 10) and its CSV, plus one so that
# the form itself can say "at most 10" to someone who picked 11; Django answers 400 past it.
DATA_UPLOAD_MAX_NUMBER_FILES = 12
# Whole request bodies: larger ones are refused (413) before their body is read (core.middleware). A
# reverse proxy should cap bodies at the same size.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=50 * 1024 * 1024)
FILE_UPLOAD_MAX_BYTES = env.int("FILE_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)

_email = env.email_url("EMAIL_URL", default="consolemail://" if not PRODUCTION else "smtp://localhost:25")
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            key.removeprefix("EMAIL_").lower(): value
            for key, value in _email.items()
            if key
            in {"EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL"}
        }
        if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MarketSafe <no-reply@marketsafe.invalid>")

# Security. Django 6.1's built-in CSP: scripts and styles only from this origin or with the request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_AGE = 8 * 3600
# No write on a read: the sliding expiry is refreshed at most every SESSION_REFRESH_SECONDS (core/sessions.py).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=300)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Staff sign-in (README, "Staff security"). The admin asks for a code from an authenticator app (TOTP) or a
# backup code; staff enrol at /accounts/2fa/. Off by default outside production so the demo logins work
# with a password alone.
STAFF_REQUIRE_2FA = env.bool("STAFF_REQUIRE_2FA", default=PRODUCTION)
OTP_TOTP_ISSUER = "MarketSafe"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Repeated failed logins of one username from one address lock that pair out for a while (django-axes);
# the lockout page says when to retry. Keyed on the pair, so an attacker elsewhere cannot lock a user out.
AXES_ENABLED = env.bool("LOGIN_LOCKOUT", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.accounts.lockout.client_ip"
# The number of reverse proxies in front of the portal, each appending to X-Forwarded-For: the client's
# address is the entry that many places from the right. With none, only REMOTE_ADDR is trusted.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if PRODUCTION else 0)
# Lockouts end by themselves after the cool-off (`manage.py axes_list_attempts` lists them,
# `axes_reset_username NAME` lifts one). Axes' own admin pages are left out: they count and browse by date
# its log tables, which grow with every login, on every page load.
AXES_ENABLE_ADMIN = False
# HTTPS-only behaviour (redirect, HSTS, secure cookies), on in production. `make serve` turns it off to run
# the production stack on plain HTTP on loopback; `check --deploy` then warns, as it should anywhere else.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=PRODUCTION)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# The REST API (README, "REST API"). Brand endpoints set their own authentication, role permission,
# throttle and keyset pagination (brands/api/viewsets.py); these are the defaults of everything else.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "brands.api.authentication.ApiTokenAuthentication",
        "brands.api.authentication.BrandSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.KeysetPagination",
    "DEFAULT_THROTTLE_RATES": {
        # Requests per API token (per user for browser sessions).
        "api_token": env.str("API_THROTTLE_RATE", default="1200/minute"),
        # Token requests per client address (password guessing; the login lockout applies as well).
        "api_auth": env.str("API_AUTH_THROTTLE_RATE", default="10/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MarketSafe API",
    "DESCRIPTION": (
        "Brands file and follow notices against counterfeit listings; marketplace systems push sellers, listings "
        "and sellers' counter-notices and appeals, and read decisions. Brand endpoints take "
        "`Authorization: Token <token>` (POST /api/v1/auth/token/, or the portal's API tokens page); each token "
        "acts in one brand with its member's role. The platform endpoints (/api/v1/platform/) take only a "
        "marketplace's service token, `Authorization: Bearer mst_...`, created in the admin. Errors on both sides "
        "are JSON: `status`, `code`, `detail` and, for invalid input, `errors` per field (per row, by index from "
        "0, for lists of listings and bulk rows)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Separate request and response components: file fields and read-only fields then type correctly.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        # A declaration the filing form requires (core.api.schema, `required_by_form`): the value, as its label.
        "MustBeTrueEnum": [(True, True)],
        "ItemStatusEnum": "cases.choices.ItemStatus",
        "CaseStatusEnum": "cases.choices.CaseStatus",
        "IPRightStatusEnum": "brands.choices.IPRightStatus",
        "IPRightKindEnum": "brands.choices.IPRightKind",
        "DocumentKindEnum": "brands.choices.DocumentKind",
        "EvidenceKindEnum": "cases.choices.EvidenceKind",
        "DeclarationKindEnum": "cases.choices.DeclarationKind",
        "ReasonCodeEnum": "cases.choices.ReasonCode",
        "FilingReasonCodeEnum": "cases.choices.FILING_REASON_CHOICES",
        "TestPurchaseVerdictEnum": "investigations.choices.Verdict",
    },
}

# Celery: see marketsafe/celery.py for why these values.
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# False: a broker restart must not kill the running chunk. It finishes (its acknowledgement may be lost,
# and the message redelivered later finds its chunk closed); cancelling it instead left it claimed.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_IGNORE_RESULT = True
# Publishing from a request (core/queue.py): a broker host that does not answer fails the connect within
# seconds and the work is left to the sweeps, instead of holding the request for the OS connect timeout.
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = env.float("BROKER_CONNECT_TIMEOUT", default=2.0)
CELERY_BEAT_SCHEDULE = {
    # Quality audits (safeguards): Monday's draw of last week's reproducible sample (idempotent per week).
    "draw-weekly-audit": {
        "task": "safeguards.tasks.draw_weekly_audit",
        "schedule": crontab(minute=30, hour=3, day_of_week=1),
    },
    # Expired filing drafts and their private evidence copies; re-queues drafts whose task was lost or
    # never sent (broker down), so every minute.
    "sweep-case-drafts": {"task": "cases.tasks.sweep_case_drafts", "schedule": 60.0},
    # Re-sends moderators' background decisions never started (broker down) or whose worker died.
    "sweep-bulk-decisions": {"task": "cases.tasks.sweep_bulk_decisions", "schedule": 60.0},
    # Counter-notice, brand-answer and clarification deadlines: the rule applies when they pass.
    "apply-item-deadlines": {"task": "cases.tasks.apply_item_deadlines", "schedule": 300.0},
    # Re-queues delisting chunks whose worker died or whose message was lost: every few seconds, since a
    # dead claim is told from a live one at once (a cheap query when nothing is wrong).
    "reap-delist-chunks": {
        "task": "listings.tasks.reap_delist_chunks",
        "schedule": float(env.int("DELIST_REAP_SECONDS", default=5)),
    },
    # MarketSafe members' rolling accuracy (warn, suspend), renewal reminders and lapses; once a night.
    "monitor-program-memberships": {
        "task": "brands.tasks.monitor_program_memberships",
        "schedule": crontab(hour=env.int("PROGRAM_MONITOR_HOUR", default=2), minute=15),
    },
    # Re-sends outbox e-mails whose message was lost (core.mail), deletes those sent a day ago.
    "sweep-outgoing-email": {"task": "core.tasks.sweep_outgoing_email", "schedule": 60.0},
    # Re-queues webhook deliveries that are due but whose message was lost (the outbox is the truth).
    "sweep-webhook-deliveries": {"task": "integrations.tasks.sweep_webhook_deliveries", "schedule": 60.0},
    # Re-sends stay-down matching of listings whose message was lost (detection's PendingMatch outbox).
    "sweep-pending-matches": {"task": "detection.tasks.sweep_pending_matches", "schedule": 60.0},
    # Stay-down bank entries follow their rights' renewals and ends (detection); once a night.
    "refresh-bank-expiry": {"task": "detection.tasks.refresh_bank_expiry", "schedule": crontab(hour=2, minute=45)},
    # Brand watch: sends the saved searches that are due to the detection queue (each looks at the listings
    # that appeared since its last run), every few minutes; and the daily digest e-mail of new matches.
    "run-watch-searches": {"task": "detection.tasks.run_watch_searches", "schedule": 300.0},
    "send-watch-digests": {
        "task": "detection.tasks.send_watch_digests",
        "schedule": crontab(hour=env.int("WATCH_DIGEST_HOUR", default=6), minute=30),
    },
}

# Queues by kind of work (docs/deployment.md, "Queues"): each kind has workers of its own, so a flood of
# webhooks or a long filing never holds a takedown back. Every task is routed by name (tests/test_queues.py
# fails for a task without a route); "celery", the default queue, only catches what a route forgot.
# Declaring the queues makes a worker started without -Q consume all of them (`make run`'s one worker).
# Exports are built inside their requests and pages (integrations.exports), not in Celery: no queue.
QUEUE_NAMES = ["delisting", "filing", "webhooks", "mail", "detection", "sweeps", "celery"]
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in QUEUE_NAMES]
CELERY_TASK_ROUTES = {
    "listings.tasks.plan_delist_job": {"queue": "delisting"},
    "listings.tasks.process_delist_chunk": {"queue": "delisting"},
    "cases.tasks.preview_case_draft": {"queue": "filing"},
    "cases.tasks.file_case_draft": {"queue": "filing"},
    "cases.tasks.run_bulk_decision": {"queue": "filing"},
    "safeguards.tasks.run_backtest": {"queue": "filing"},  # a lead waits on it like on a bulk decision
    "integrations.tasks.deliver_webhook": {"queue": "webhooks"},
    "integrations.tasks.dispatch_webhook_deliveries": {"queue": "webhooks"},
    # E-mail (core.mail): its own queue, so that retries while SMTP is down wait beside nothing else.
    "core.tasks.send_email": {"queue": "mail"},
    # Re-listing detection (issue 17): matching ingested listings against the banks, beside nothing slower.
    "detection.tasks.match_listings": {"queue": "detection"},
    # Brand watch: runs of saved searches, sent by the beat's `run_watch_searches`.
    "detection.tasks.run_watch_search_batch": {"queue": "detection"},
    # Every scheduled task, whatever it re-sends: the work it finds goes to that work's own queue.
    **{entry["task"]: {"queue": "sweeps"} for entry in CELERY_BEAT_SCHEDULE.values()},
}
# Readiness (`/readyz`, core/health.py): not ready while any of these queues (and the default one) holds
# more messages than this.
READINESS_QUEUES = env.list("READINESS_QUEUES", default=QUEUE_NAMES)
READINESS_MAX_BACKLOG = env.int("READINESS_MAX_BACKLOG", default=10_000)
# `manage.py ops_status` (marketsafe/operations.py) exits with status 2 when a figure is above its threshold.
OPS_STATUS_THRESHOLDS = {
    "max_queue_depth": READINESS_MAX_BACKLOG,  # messages in any one queue
    "max_chunk_age": env.int("OPS_MAX_CHUNK_AGE", default=600),  # seconds the oldest pending chunk waited
    "stalled_after": env.int("OPS_STALLED_AFTER", default=300),  # seconds without progress: a stalled job
    "max_stalled_jobs": 0,
    "max_webhooks_due": env.int("OPS_MAX_WEBHOOKS_DUE", default=1_000),
    "max_webhooks_failed": env.int("OPS_MAX_WEBHOOKS_FAILED", default=100),  # given up in the last 24 h
    "max_filing_pending": env.int("OPS_MAX_FILING_PENDING", default=50),  # drafts and bulk decisions
}

# Domain rules (hours/days), kept here so operators can tune them without a release.
MARKETSAFE = {
    "SLA_HOURS": {
        "expedited": env.int("SLA_HOURS_EXPEDITED", default=24),
        "standard": env.int("SLA_HOURS_STANDARD", default=72),
    },
    # The review queue puts an item a "lower priority" risk rule hit behind the other items of its lane
    # until its SLA due time is this close (the deadline sweep, every 5 minutes, gives its place back); from
    # then on it takes its place by SLA due time again (cases.services.priority), so lowering an item never
    # makes it miss its SLA.
    "QUEUE_LOWERED_PRIORITY_GUARD": timedelta(hours=env.int("QUEUE_LOWERED_PRIORITY_GUARD_HOURS", default=4)),
    # Risk rules: a suspension or termination of a seller with more than this many live listings is held
    # until a second moderation lead approves it (safeguards.services.approvals.suspension_hold).
    "SECOND_APPROVER_SUSPENSION_MIN_LISTINGS": env.int("SECOND_APPROVER_SUSPENSION_MIN_LISTINGS", default=100),
    "CLARIFICATION_WINDOW": timedelta(days=env.int("CLARIFICATION_WINDOW_DAYS", default=14)),
    "COUNTER_NOTICE_WINDOW": timedelta(days=env.int("COUNTER_NOTICE_WINDOW_DAYS", default=10)),
    "BRAND_ANSWER_WINDOW": timedelta(days=env.int("BRAND_ANSWER_WINDOW_DAYS", default=10)),
    "APPEAL_WINDOW": timedelta(days=env.int("APPEAL_WINDOW_DAYS", default=183)),
    "MAX_ITEMS_PER_CASE": env.int("MAX_ITEMS_PER_CASE", default=1000),
    # Listing rows above which previews and filings run in Celery with a progress bar.
    "IMPORT_INLINE_MAX_ROWS": env.int("IMPORT_INLINE_MAX_ROWS", default=200),
    "CASE_DRAFT_LIFETIME": timedelta(hours=env.int("CASE_DRAFT_LIFETIME_HOURS", default=24)),
    # Delisting jobs: targets per chunk task, attempts before a chunk is failed, how long a claimed chunk
    # is leased (past the task time limit), and when a pending chunk's message counts as lost.
    # Admin bulk accepts above this many items remove their listings through one delisting job.
    "ADMIN_DIRECT_ACCEPT_MAX": env.int("ADMIN_DIRECT_ACCEPT_MAX", default=50),
    # Admin decisions on more items than this run in Celery with a progress page (cases.admin.bulk_background).
    "ADMIN_BACKGROUND_DECISION_MIN": env.int("ADMIN_BACKGROUND_DECISION_MIN", default=40),
    "DELIST_CHUNK_SIZE": env.int("DELIST_CHUNK_SIZE", default=5000),
    "DELIST_MAX_ATTEMPTS": env.int("DELIST_MAX_ATTEMPTS", default=5),
    # A dead claim (its worker's database session ended) is taken over by the reaper within
    # DELIST_REAP_SECONDS, re-sent again every DELIST_DEAD_RESEND_SECONDS while still dead; the lease is
    # only the deadline shown to people (listings.delisting.chunks).
    "DELIST_LEASE_SECONDS": 660,
    "DELIST_REQUEUE_AFTER_SECONDS": env.int("DELIST_REQUEUE_AFTER_SECONDS", default=30),
    "DELIST_DEAD_RESEND_SECONDS": env.int("DELIST_DEAD_RESEND_SECONDS", default=10),
    # The MarketSafe program (README, "The MarketSafe program"). Members keep the expedited lane while their
    # rolling accuracy, overall and for each reason code, meets both thresholds; within the margin of one
    # they are warned; below one for the warning period they are suspended. Figures over fewer decisions
    # than the minimum are not judged (a handful of decisions says nothing about accuracy).
    # Where links in e-mails sent without a request (nightly checks, admin decisions) point.
    "PORTAL_URL": env.str("PORTAL_URL", default="http://localhost:8000"),
    "PROGRAM_MIN_ACCEPTANCE_RATE": env.float("PROGRAM_MIN_ACCEPTANCE_RATE", default=0.90),
    "PROGRAM_MAX_COUNTER_NOTICE_RATE": env.float("PROGRAM_MAX_COUNTER_NOTICE_RATE", default=0.05),
    "PROGRAM_ACCEPTANCE_MARGIN": env.float("PROGRAM_ACCEPTANCE_MARGIN", default=0.03),
    "PROGRAM_COUNTER_NOTICE_MARGIN": env.float("PROGRAM_COUNTER_NOTICE_MARGIN", default=0.01),
    "PROGRAM_MIN_DECISIONS": env.int("PROGRAM_MIN_DECISIONS", default=20),
    # Quality audits (issue 18): a member's audited accuracy is judged from this many settled audits in the
    # accuracy window (brands.selectors.program_standing).
    "PROGRAM_MIN_AUDITED": env.int("PROGRAM_MIN_AUDITED", default=20),
    "PROGRAM_ACCURACY_WINDOW": timedelta(days=env.int("PROGRAM_ACCURACY_WINDOW_DAYS", default=90)),
    "PROGRAM_WARNING_PERIOD": timedelta(days=env.int("PROGRAM_WARNING_PERIOD_DAYS", default=30)),
    "PROGRAM_MEMBERSHIP_TERM": timedelta(days=env.int("PROGRAM_MEMBERSHIP_TERM_DAYS", default=365)),
    # Days before the renewal date on which the brand is reminded (each once).
    "PROGRAM_RENEWAL_REMINDER_DAYS": tuple(env.list("PROGRAM_RENEWAL_REMINDER_DAYS", cast=int, default=[30, 7])),
    # Seller networks (investigations): how far the search around a seller goes (hops, sellers), and from
    # which size an action on a whole network waits for a second moderation lead.
    "NETWORK_MAX_DEPTH": env.int("NETWORK_MAX_DEPTH", default=4),
    "NETWORK_MAX_SELLERS": env.int("NETWORK_MAX_SELLERS", default=100),
    "NETWORK_SECOND_APPROVER_MIN_SELLERS": env.int("NETWORK_SECOND_APPROVER_MIN_SELLERS", default=5),
    "NETWORK_SECOND_APPROVER_MIN_LISTINGS": env.int("NETWORK_SECOND_APPROVER_MIN_LISTINGS", default=500),
    # Marketplace systems (README, "Integration"): requests per service token, rows per bulk upsert.
    "PLATFORM_API_RATE": env.str("PLATFORM_API_RATE", default="600/min"),
    "PLATFORM_BULK_MAX_ROWS": env.int("PLATFORM_BULK_MAX_ROWS", default=5000),
    "PLATFORM_FEED_MAX_PAGE": 500,
    # Webhooks: attempts before a delivery is given up, the first retry delay (doubled on each attempt, up
    # to the cap), the HTTP timeouts, and the SSRF guard (https only in production; private, loopback and
    # link-local addresses refused unless explicitly allowed, which only tests and local demos do).
    "WEBHOOK_MAX_ATTEMPTS": env.int("WEBHOOK_MAX_ATTEMPTS", default=8),
    "WEBHOOK_BACKOFF_SECONDS": env.int("WEBHOOK_BACKOFF_SECONDS", default=30),
    "WEBHOOK_BACKOFF_MAX_SECONDS": env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=6 * 3600),
    "WEBHOOK_CONNECT_TIMEOUT": 5.0,
    "WEBHOOK_READ_TIMEOUT": 10.0,
    "WEBHOOK_REQUIRE_HTTPS": env.bool("WEBHOOK_REQUIRE_HTTPS", default=PRODUCTION),
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False),
    # Deliveries due this long ago without an attempt are re-queued by the sweep (their message was lost).
    "WEBHOOK_REQUEUE_AFTER_SECONDS": 120,
    # DSA statements are exported only once this old: long enough for any decision transaction to commit.
    "EXPORT_SETTLE_SECONDS": env.int("EXPORT_SETTLE_SECONDS", default=60),
    # Brand watch (detection.services.watch): how often each saved search looks at the new listings.
    "WATCH_RUN_EVERY_SECONDS": env.int("WATCH_RUN_EVERY_SECONDS", default=3600),
}

# Prometheus metrics (docs/deployment.md, "Metrics"): `/metrics` answers scrapers from these networks (CIDR,
# client address as TRUSTED_PROXY_COUNT finds it) or with `Authorization: Bearer <METRICS_TOKEN>` (at least 32
# characters); anyone else gets a 404. Production allows nobody until configured; development allows loopback.
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS", default=[] if PRODUCTION else ["127.0.0.0/8", "::1/128"]
)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The window (seconds) of the "recent" figures computed from PostgreSQL at scrape time, and the most rows a
# recent figure reads (newest first, by primary key), so a scrape stays cheap whatever the tables hold.
METRICS_WINDOW_SECONDS = env.int("METRICS_WINDOW_SECONDS", default=300)
METRICS_SCAN_ROWS = env.int("METRICS_SCAN_ROWS", default=20_000)
# Computed at scrape time by the process that answers it.
METRICS_COLLECTORS = ["core.metrics.QueueDepthCollector", "marketsafe.metrics.BusinessCollector"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

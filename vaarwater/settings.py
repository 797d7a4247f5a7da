"""Vaarwater settings: one module, every value from the environment (see README, Configuration)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from vaarwater.core.env import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env.path("VAR_DIR", BASE_DIR / "var")

DEBUG = env.bool("DEBUG", default=True)
PRODUCTION = env.bool("PRODUCTION", default=False)

SECRET_KEY = env.str("SECRET_KEY") or ""
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "VAARWATER_SECRET_KEY must be set when VAARWATER_PRODUCTION=true"
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

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
    "vaarwater.core",
    "vaarwater.ledger",
    "vaarwater.strategy",
    "vaarwater.contact",
    "vaarwater.payments",
    "vaarwater.arrangements",
    "vaarwater.portal",
    "vaarwater.workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vaarwater.urls"
WSGI_APPLICATION = "vaarwater.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vaarwater.workspace.access.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'vaarwater.sqlite3'}",
        conn_max_age=env.int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    if str(DATABASES["default"]["NAME"]) != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
# A separate test database URL, used by the suite's second run in CI.
if env.str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "vaarwater" / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "/"

# Back-office login: password plus a TOTP code (django-otp); django-axes locks a username
# out from an address after repeated failures (a wrong code counts as a failure too).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "workspace/locked_out.html"
AXES_ENABLE_ADMIN = True
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", "Vaarwater")

# The address debtors and providers reach this installation at: personal links in messages,
# List-Unsubscribe, and the delivery-webhook URLs handed to SMS/WhatsApp providers.
PUBLIC_URL = env.str("PUBLIC_URL", "http://127.0.0.1:8000")
# Behind a reverse proxy the portal's login limits count the client address the proxy reports
# (the last X-Forwarded-For entry) instead of the proxy's own.
PORTAL_BEHIND_PROXY = env.bool("PORTAL_BEHIND_PROXY", default=False)

# The portal asks a debtor to confirm contact details not confirmed for this many days.
CONTACT_CONFIRM_AFTER_DAYS = env.int("CONTACT_CONFIRM_AFTER_DAYS", 180)

# Embedded default: every email is written as a file under var/mail (nothing leaves the laptop).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", VAR_DIR / "mail")
EMAIL_HOST = env.str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Vaarwater <noreply@vaarwater.localhost>")
# Shared secret for the signed email-event webhook (bounces/deliveries from a mail relay).
EMAIL_WEBHOOK_SECRET = env.str("EMAIL_WEBHOOK_SECRET", "dev-email-webhook-secret")

# Celery: without a broker, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env.str("BROKER_URL") or "memory://"
CELERY_TASK_ALWAYS_EAGER = not env.str("BROKER_URL")
# The daily run waits for its chunks' results: Redis keeps them (the broker's, unless set).
CELERY_RESULT_BACKEND = env.str("RESULT_BACKEND") or (
    env.str("BROKER_URL") if (env.str("BROKER_URL") or "").startswith("redis") else None
)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE

# Import: rows written per database round trip (a batch costs one statement of this many rows).
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", 5000)

# Channel providers (SMS: Twilio API; WhatsApp: Cloud API) -----------------------------------
# On a laptop both talk to the built-in simulator (`vaarwater simulator`, port 8025), which uses
# these same dev credentials. For the real providers set the credentials; with
# VAARWATER_PRODUCTION=true the API bases default to the real ones and the dev credentials are
# refused. See docs/contact.md, "SMS and WhatsApp providers, the simulator and webhooks".
_channel_simulator = "http://127.0.0.1:8025"
_channel_dev_defaults = {
    "TWILIO_ACCOUNT_SID": "ACdev00000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "dev-twilio-auth-token",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "WHATSAPP_TOKEN": "dev-whatsapp-token",
    "WHATSAPP_APP_SECRET": "dev-whatsapp-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "dev-whatsapp-verify-token",
}
# Twilio: Account SID and Auth Token (the token also checks the webhooks' X-Twilio-Signature).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID") or _channel_dev_defaults["TWILIO_ACCOUNT_SID"]
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN") or _channel_dev_defaults["TWILIO_AUTH_TOKEN"]
# The sender: a Twilio number in E.164, or a Messaging Service SID (MG…), which wins when set.
TWILIO_FROM = env.str("TWILIO_FROM", "+3197010000001")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", "")
# Where the twilio library sends its requests; empty = the real https://api.twilio.com.
TWILIO_API_BASE = env.str("TWILIO_API_BASE", "" if PRODUCTION else _channel_simulator)
# WhatsApp Cloud API: https://graph.facebook.com/{version}/{phone number id}/messages.
WHATSAPP_API_BASE = env.str(
    "WHATSAPP_API_BASE", "https://graph.facebook.com" if PRODUCTION else _channel_simulator
)
WHATSAPP_API_VERSION = env.str("WHATSAPP_API_VERSION", "v23.0")
WHATSAPP_PHONE_NUMBER_ID = (
    env.str("WHATSAPP_PHONE_NUMBER_ID") or _channel_dev_defaults["WHATSAPP_PHONE_NUMBER_ID"]
)
# A System User access token with whatsapp_business_messaging permission.
WHATSAPP_TOKEN = env.str("WHATSAPP_TOKEN") or _channel_dev_defaults["WHATSAPP_TOKEN"]
# The Meta app's secret: checks the webhooks' X-Hub-Signature-256.
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET") or _channel_dev_defaults["WHATSAPP_APP_SECRET"]
# The token typed into the Meta app's webhook settings (answered on the GET check).
WHATSAPP_VERIFY_TOKEN = (
    env.str("WHATSAPP_VERIFY_TOKEN") or _channel_dev_defaults["WHATSAPP_VERIFY_TOKEN"]
)
# Seconds to wait for a provider's answer to a send (a lost answer is never sent twice).
CHANNEL_PROVIDER_TIMEOUT = env.int("CHANNEL_PROVIDER_TIMEOUT", 30)
if PRODUCTION:
    _channel_unset = [n for n, v in _channel_dev_defaults.items() if globals()[n] == v]
    if _channel_unset:
        raise ImproperlyConfigured(
            "These must be set when VAARWATER_PRODUCTION=true (the defaults only work with the "
            "local simulator): " + ", ".join(f"VAARWATER_{n}" for n in _channel_unset)
        )

# iDEAL through Mollie -------------------------------------------------------------------------
# On a laptop the official client (mollie-api-python) talks to the same built-in simulator
# (`vaarwater simulator`, port 8025), which accepts only this dev key and has a checkout page of
# its own. For real payments set a Mollie API key (test_… for Mollie's test mode, live_… for
# money); with VAARWATER_PRODUCTION=true the API base defaults to Mollie's and the dev key is
# refused. Mollie calls PUBLIC_URL + /payments/webhooks/mollie/. See docs/payments.md.
_mollie_dev_key = "test_vaarwaterdev000000000000000000"  # noqa: S105 - the dev default (test_ + 30)
MOLLIE_API_KEY = env.str("MOLLIE_API_KEY") or _mollie_dev_key
# Where the client sends its requests; empty = the real https://api.mollie.com.
MOLLIE_API_BASE = env.str("MOLLIE_API_BASE", "" if PRODUCTION else _channel_simulator)
# Seconds to wait for Mollie's answer (connect, read).
MOLLIE_TIMEOUT = env.int("MOLLIE_TIMEOUT", 15)
if PRODUCTION and _mollie_dev_key == MOLLIE_API_KEY:
    raise ImproperlyConfigured(
        "VAARWATER_MOLLIE_API_KEY must be set when VAARWATER_PRODUCTION=true (the default only "
        "works with the local simulator)"
    )

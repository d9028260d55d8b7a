"""The test override: tasks run inline unless a test starts a real worker."""

from .settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise warns on every request when the folder collectstatic fills is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

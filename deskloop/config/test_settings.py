"""Settings for the test suite: production settings with the slow or asynchronous parts made fast."""

from deskloop.config.settings import *  # noqa: F403

# PBKDF2 with production iterations costs ~0.5 s per password; the suite creates hundreds of agents.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run inline at enqueue time (after commit), so a test sees their effects without a worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The Dovecot of the IMAP tests listens on loopback, which the outbound address policy refuses by default.
DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS = True
# Suggestions check for edits on every question: tests reuse workspace ids, and each expects its own articles.
DESKLOOP_SUGGESTION_RECHECK_SECONDS = 0
DESKLOOP_SUGGESTION_BACKGROUND_REBUILD = False  # tests expect an edit in the very next answer; one test turns it on

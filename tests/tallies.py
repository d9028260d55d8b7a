"""The summary rollup as beat runs it, for tests: everything written so far is counted and
falls before the bookmark (no safety margin: nothing else writes during a test)."""

from django.conf import settings
from django.test import override_settings

from claims.summaries.refresh import summaries_refresh


def refresh_tallies(*, full: bool = False) -> dict:
    with override_settings(BAOJIA={**settings.BAOJIA, "SUMMARY_SAFETY_SECONDS": 0}):
        return summaries_refresh(full=full)

"""Text the database keeps (ledger memos) reads the same whoever wrote it: it is stored in the
project's language, and pages translate it when they show it."""

from typing import Any

from django.conf import settings
from django.utils import translation


def stored_text(message: Any, **params: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = str(message)
    return text % params if params else text

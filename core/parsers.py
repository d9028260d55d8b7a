"""The API's JSON parser: DRF's, with a limit on how deeply a body may nest.

Kept out of ``core.api`` on purpose: DRF imports its default parser while ``rest_framework.views``
is still loading, so this module imports nothing that imports the views.
"""

import codecs
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# Deep enough for any body the API takes (an order's items are three levels deep), far from the
# depth at which Python's JSON decoder, or anything walking the result, hits the recursion limit.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count)."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing a body nested deeper than ``MAX_JSON_DEPTH`` before decoding
    it: ``"[" * 1000`` would otherwise end in a ``RecursionError`` (a 500) on every endpoint."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            if json_nesting_depth(text) > MAX_JSON_DEPTH:
                raise exceptions.ParseError(
                    _("JSON 嵌套太深:最多 %(depth)d 层。") % {"depth": MAX_JSON_DEPTH}, code="json_too_deep"
                )
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:  # undecodable bytes or malformed JSON
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc

"""Figures the admin index shows an officer: the review queue's length and its oldest claim."""

from typing import Any

from django import template
from django.contrib.auth.models import AbstractBaseUser

from claims.reports import review_backlog

register = template.Library()


@register.simple_tag
def review_queue(user: AbstractBaseUser) -> dict[str, Any]:
    """The claims waiting for ``user``'s insurers' staff, and since when the oldest has waited."""
    return review_backlog(user)

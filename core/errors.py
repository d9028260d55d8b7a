"""Refusals that users read: a stable code for tests and clients, a translated message for people."""

from typing import Any

from django.utils.encoding import force_str


class ServiceError(Exception):
    """A service refused to act. Nothing was changed."""

    status = 409

    def __init__(self, code: str, message: Any, **params: Any) -> None:
        self.code = code
        self.params = params
        self._message = message
        super().__init__(code)

    @property
    def message(self) -> str:
        text = force_str(self._message)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.message}


class InvalidInput(ServiceError):
    """The request itself is malformed (a bad amount, quantity or option)."""

    status = 400

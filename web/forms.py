"""Form pieces every web page shares, and the Alipay balance page's form.

They live in the lowest app with web forms so every app above may use them: an amount typed in
yuan becomes integer fen, and a service's refusal becomes an error next to its field.
"""

import uuid
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from core.money import parse_yuan


class YuanField(forms.CharField):
    """An amount typed in yuan (``159`` or ``159.90``), cleaned to integer fen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return parse_yuan(text)
        except ServiceError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class ServiceErrorFormMixin:
    """``add_service_error`` puts a service's refusal next to the field it is about.

    ``error_fields`` maps refusal codes to field names; anything else goes above the form.
    Widgets get Bootstrap's classes, so templates render fields as they are.
    """

    error_fields: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            widget = bound.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        # Each field in error points at its message (templates give it the id ``<id>_error``),
        # then at its help text, so a screen reader says why the field was refused.
        for name in self.errors:
            if name not in self.fields:
                continue
            auto_id = self[name].auto_id
            described = [f"{auto_id}_error"]
            if self.fields[name].help_text:
                described.append(f"{auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(described)

    def add_service_error(self, error: ServiceError) -> None:
        field = self.error_fields.get(error.code)
        self.add_error(
            field if field in self.fields else None, forms.ValidationError(error.message, code=error.code)
        )


class IdempotentForm(forms.Form):
    """Carries a key made when the form was shown, so a double submit moves money once."""

    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("key", uuid.uuid4())
        super().__init__(*args, **kwargs)


class TopUpForm(ServiceErrorFormMixin, IdempotentForm):
    amount = YuanField(label=_("充值金额(元)"))

    error_fields: ClassVar[dict[str, str]] = {"invalid_amount": "amount"}

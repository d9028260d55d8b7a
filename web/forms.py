"""Form pieces every web page shares, and the Alipay balance page's form.

They live in the lowest app with web forms so every app above may use them: an amount typed in
yuan becomes integer fen, and a service's refusal becomes an error next to its field.
"""

import uuid
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput, ServiceError
from core.money import parse_yuan
from core.numbers import MAX_ID, parse_int


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


class WholeNumberField(forms.IntegerField):
    """A whole number typed with ASCII digits, read by ``core.numbers.parse_int``: ``1.5``,
    ``1.0`` and full-width ``１`` are refused with its message (Django's own field reads the last
    two as 1). The bounds stay Django's validators, so the widget carries them too."""

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str):
            value = value.strip()
        if value in self.empty_values:
            return None
        try:
            return parse_int(value)
        except InvalidInput as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class IdChoiceField(forms.ModelChoiceField):
    """A choice of one row by its id, the id read strictly first (``core.numbers``): ``"１"`` or
    ``"7.0"`` is refused as not a whole number rather than looked up as 1 or 7."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values or isinstance(value, self.queryset.model):
            return super().to_python(value)
        try:
            parse_int(value.strip() if isinstance(value, str) else value, min_value=1, max_value=MAX_ID)
        except InvalidInput as error:
            if error.code == "out_of_range":
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                ) from None
            raise forms.ValidationError(error.message, code=error.code) from None
        return super().to_python(value)


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

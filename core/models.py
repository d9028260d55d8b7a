from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

# Every app's audit actions with their labels, registered by the app that defines them (core knows
# none of them): a history reads as people say it, in the admin and on the pages alike.
AUDIT_ACTION_LABELS: dict[str, object] = {}


def audit_actions_register(actions: type[models.TextChoices]) -> type[models.TextChoices]:
    """Class decorator for an app's audit action choices."""
    AUDIT_ACTION_LABELS.update({choice.value: choice.label for choice in actions})
    return actions


def audit_action_label(action: str) -> str:
    return str(AUDIT_ACTION_LABELS.get(action, action))


class AuditEvent(models.Model):
    """Who moved what from which state to which, when and why. Written in the same transaction."""

    # No index of its own: (content_type, object_id) below leads with it.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False)
    object_id = models.BigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    action = models.CharField(_("动作"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}→{self.to_state}"

    @property
    def action_label(self) -> str:
        return audit_action_label(self.action)

    def state_label(self, state: str) -> str:
        """A state as its subject's ``state`` field names it (the code when it has no such field)."""
        model = ContentType.objects.get_for_id(self.content_type_id).model_class()
        try:
            choices = dict(model._meta.get_field("state").flatchoices) if model else {}
        except models.FieldDoesNotExist:
            choices = {}
        return str(choices.get(state, state))

    @property
    def from_state_label(self) -> str:
        return self.state_label(self.from_state) if self.from_state else ""

    @property
    def to_state_label(self) -> str:
        return self.state_label(self.to_state) if self.to_state else ""

    @property
    def data_lines(self) -> list[str]:
        """The data as ``key: value`` lines (nested values one level flattened), not a dict."""

        def words(value: object) -> str:
            if isinstance(value, dict):
                return ", ".join(f"{k} {words(v)}" for k, v in value.items())
            return str(value)

        return [f"{key}: {words(value)}" for key, value in (self.data or {}).items()]


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header, replayed to retries.

    A row is written in the same transaction as the work it guards: a concurrent duplicate waits
    on the unique (user, key) index, then reads the stored response instead of acting again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("幂等键"), max_length=255)
    # sha256 of the method, path, user and canonical JSON body: the same key with another
    # request is refused rather than replayed.
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    # Empty only inside the transaction that is producing the response; never seen committed.
    response_status = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    response_body = models.JSONField(_("响应内容"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self) -> str:
        return self.key


class Preferences(models.Model):
    """A person's settings. No row yet means every default, so a new account needs none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    # 自动理赔: the platform files the claim with the window's lowest price shortly before the
    # window closes. On for every new account.
    auto_claim = models.BooleanField(_("自动理赔"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("用户设置")
        verbose_name_plural = _("用户设置")

    def __str__(self) -> str:
        return f"{self.user_id}"

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """One event that matters to one person (消息), stored in the event's own transaction.

    ``key`` names the event ("drop:12", "claim_decided:34:approved"): the unique (user, key) makes
    a second notice for the same event impossible, whoever posts it and however often. The text
    is not stored: the kind's messages are rendered from ``params`` in the reader's language.
    ``sent_at`` is null until the e-mail went out (or there was no address to send it to); the
    periodic sweep sends what is still null, so a broker that was down loses nothing.
    """

    # Indexed by the unique (user, key) below, which starts with it. No foreign-key constraint in
    # the database: a campaign posts a million notices in one go, and PostgreSQL would lock each
    # recipient's row to check it. Every notice is written for a user the same statement read,
    # and Django still cascades a deleted user's notices.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notices",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("类型"), max_length=48)
    key = models.CharField(_("事件"), max_length=128)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # A sender took the e-mail at this time; another may take it again only after a lease expired.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    email_to = models.CharField(_("收件地址"), max_length=254, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        # The unique (user, key) index also serves a person's inbox and unread count (a person has
        # dozens of notices, not millions); the sweep finds unsent ones by a partial index. Every
        # index more is paid on each of a campaign's million notices.
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notice_once_per_event")]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="notice_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def title(self) -> str:
        from notices.kinds import render

        return render(self.kind, self.params)[0]

    @property
    def body(self) -> str:
        from notices.kinds import render

        return render(self.kind, self.params)[1]

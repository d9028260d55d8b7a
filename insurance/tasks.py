from celery import shared_task

from insurance import services


@shared_task
def policy_windows_advance() -> dict:
    return services.policy_windows_advance()

from celery import shared_task

from orders import services


@shared_task
def campaigns_advance() -> dict:
    return services.campaigns_advance()


@shared_task
def orders_close_unpaid() -> int:
    return services.orders_close_unpaid()

from celery import shared_task


@shared_task(name="storefront.accounts.tasks.ping")
def ping() -> str:
    """Health check of the worker: answers "pong" once a worker took the task from the broker."""
    return "pong"

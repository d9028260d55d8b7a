from django.core.servers.basehttp import WSGIServer

from tests.api.conftest import scene, seller_b  # noqa: F401, E402 - fixtures shared with the API tests
from tests.workers import worker  # noqa: F401 - a fixture for the tests in this folder

# The storms open 200 connections at once: Django's test server listens with a backlog of 10,
# which a loaded machine overflows (connection resets that say nothing about the product).
WSGIServer.request_queue_size = 256

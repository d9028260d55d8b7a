from tests.api.conftest import scene, seller_b  # noqa: F401, E402 - fixtures shared with the API tests
from tests.workers import worker  # noqa: F401 - a fixture for the tests in this folder

"""Scenario 4's part (bench/pages.py) at a tiny size: the pages answer a session made directly in
the session store, and their queries do not grow with the buyer's and the shop's orders."""

import pytest
from django.test import Client

from bench import pages


@pytest.mark.django_db
def test_the_pages_make_as_many_queries_at_30_orders_as_at_3(tmp_path):
    if not pages.pages_available():
        pytest.skip("this version has no web pages")
    result = pages.prepare(sizes=[3, 30], pages=str(tmp_path / "pages"))
    small, big = result["sizes"]["3"]["queries"], result["sizes"]["30"]["queries"]
    assert set(small) == set(pages.PAGES)
    assert all(n > 0 for n in small.values())
    assert big == small
    for page in pages.PAGES:
        cookie, path = (tmp_path / f"pages.30.{page}").read_text().strip().split("\t")
        assert Client(HTTP_COOKIE=cookie).get(path).status_code == 200, page

"""axe-core on every page of every role, in both languages: no serious or critical violation.

axe-core comes with axe-playwright-python (requirements-dev.txt) and is injected from the local
package: no network. Each role's pages are listed here, and ``test_every_page_is_listed`` fails
when a page is added to ``web/urls.py`` without being listed.
"""

from collections.abc import Iterator

import pytest
from axe_playwright_python.base import AXE_FILE_PATH
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.conftest import PASSWORD
from tests.e2e.scenario import Scenario, build

LANGUAGES = ["zh-hans", "en"]
BLOCKING = {"serious", "critical"}
# Lesser rules that issue 10 named: none of these either, whatever their impact.
NAMED = {
    "aria-allowed-role",  # role="group" on the language form
    "region",  # the seller's sub-navigation outside a landmark
    "heading-order",  # <h3> right after <h1> in the 保险服务 panel
    "page-has-heading-one",  # the Alipay page
    "aria-valid-attr-value",  # a dangling aria-describedby (the catalog's min_spend)
    "empty-table-header",  # the admin's tables
}

# Web pages that are not pages: POST-only actions and htmx fragments of pages listed below.
NOT_PAGES = {
    "logout",
    "orders:pay",
    "orders:cancel",
    "orders:confirm",
    "orders:seller_ship",
    "orders:address_new",  # POST; its error page is buyer/address_form.html (listed below)
    "orders:quote",  # the checkout's breakdown, swapped into orders:checkout
    "claims:file",  # POST; its refusal re-renders orders:detail (listed below)
    "claims:panel",  # the 保险服务 panel, part of orders:detail
    "insurance:exposure",  # part of insurance:dashboard
    "insurance:deposit",  # POST
    "insurance:coverage",  # POST (htmx row of insurance:campaigns)
    "alipay:top_up",  # POST
    "home",  # a redirect to each role's home
    "claims:one_click",  # POST; its result is the 保险服务 panel of orders:detail
    "notices:open",  # marks a notice read and redirects where it points
    "notices:drop",  # a redirect to the drop's order page (orders:detail)
    "notices:read_all",  # POST
    "notices:auto_claim",  # POST
}


@pytest.fixture
def scenario(world, staff) -> Scenario:
    return build(world, staff=staff)


def anonymous_pages(s: Scenario) -> list[str]:
    return [
        reverse("orders:storefront"),
        f"{reverse('orders:storefront')}?platform=tmall",
        reverse("orders:campaign", args=[s.world.campaign.pk]),
        reverse("orders:listing", args=[s.world.sku.listing_id]),
        reverse("login"),
        "/no-such-page/",
    ]


def buyer_pages(s: Scenario) -> list[str]:
    detail = "orders:detail"
    return [
        reverse("orders:storefront"),
        reverse("orders:listing", args=[s.rice.sku.listing_id]),
        f"{reverse('orders:checkout')}?sku={s.world.sku.pk}",
        reverse("orders:mine"),
        f"{reverse('orders:mine')}?state=created",
        reverse(detail, args=[s.paid.number]),
        reverse(detail, args=[s.in_review.number]),
        reverse(detail, args=[s.claimable.number]),
        reverse(detail, args=[s.waiting.number]),
        reverse(detail, args=[s.evidence.number]),
        reverse("alipay:balance"),
        reverse("notices:list"),
    ]


def seller_pages(s: Scenario) -> list[str]:
    return [
        reverse("insurance:dashboard"),
        reverse("insurance:campaigns"),
        reverse("orders:seller_orders"),
        reverse("claims:seller_claims"),
        reverse("shops:catalog"),
        reverse("alipay:balance"),
        f"{reverse('alipay:balance')}?account=buyer",
    ]


def staff_pages(s: Scenario) -> list[str]:
    """An insurer's claims officer: the index, the review queue and report, and each model's list
    and change page (the claim in review among them)."""
    pages = [
        reverse("admin:index"),
        f"{reverse('admin:claims_claim_changelist')}?state=in_review",
        reverse("admin:claims_claim_change", args=[s.claim.pk]),
    ]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not model_admin.has_view_permission(_request(s.staff)):
            continue
        prefix = f"{opts.app_label}_{opts.model_name}"
        pages.append(reverse(f"admin:{prefix}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{prefix}_change", args=[first.pk]))
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name and not name.startswith(prefix) and not pattern.pattern.regex.groups:
                pages.append(reverse(f"admin:{name}"))
    return list(dict.fromkeys(pages))


def superuser_pages(s: Scenario) -> list[str]:
    """What only a superuser opens: users and groups, and every add page."""
    pages = [
        reverse("admin:index"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[s.admin.pk]),
        reverse("admin:auth_group_changelist"),
        reverse("admin:auth_group_change", args=[s.staff.groups.get().pk]),
    ]
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_add_permission(_request(s.admin)):
            opts = model._meta
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    return list(dict.fromkeys(pages))


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def _violations(page: Page, context: dict) -> list[str]:
    results = page.evaluate("(context) => axe.run(context, {resultTypes: ['violations']})", context)
    found = []
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING or violation["id"] in NAMED:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}): {targets}")
    return found


def _axe_context(path: str) -> dict:
    # The admin's sidebar is the same on every admin page: checked once, on the index.
    if path.startswith("/admin/") and path != reverse("admin:index"):
        return {"exclude": [["#nav-sidebar"]]}
    return {"exclude": []}


def _context(browser: Browser, live_server, language: str, username: str | None) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.add_init_script(path=str(AXE_FILE_PATH))  # the local copy: no network
    if language != "zh-hans":
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    if username:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        page.close()
    return context


def _audit(browser, live_server, language: str, username: str | None, paths: list[str]) -> dict[str, list]:
    context = _context(browser, live_server, language, username)
    page = context.new_page()
    failures = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}", wait_until="load")
        assert page.locator("html").get_attribute("lang") == language, path
        # The admin names its autocomplete boxes once jQuery is ready (static/js/admin.js).
        page.wait_for_function("!document.querySelector('select.admin-autocomplete:not([data-named])')")
        found = _violations(page, _axe_context(path))
        if found:
            failures[path] = found
    context.close()
    return failures


def _report(failures: dict[str, list]) -> str:
    return "\n".join(f"{path}\n  " + "\n  ".join(found) for path, found in failures.items())


@pytest.mark.parametrize("language", LANGUAGES)
def test_anonymous_pages_pass_axe(scenario, live_server, browser, language):
    failures = _audit(browser, live_server, language, None, anonymous_pages(scenario))
    assert not failures, _report(failures)


@pytest.mark.parametrize("language", LANGUAGES)
def test_buyer_pages_pass_axe(scenario, live_server, browser, language):
    failures = _audit(browser, live_server, language, "alice", buyer_pages(scenario))
    assert not failures, _report(failures)


@pytest.mark.parametrize("language", LANGUAGES)
def test_seller_pages_pass_axe(scenario, live_server, browser, language):
    failures = _audit(browser, live_server, language, "seller_a", seller_pages(scenario))
    assert not failures, _report(failures)


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_pages_pass_axe(scenario, live_server, browser, language):
    failures = _audit(browser, live_server, language, scenario.staff.username, staff_pages(scenario))
    failures |= _audit(browser, live_server, language, scenario.admin.username, superuser_pages(scenario))
    assert not failures, _report(failures)


def _names(patterns, namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin" or str(pattern.pattern).startswith(("api/", "i18n/")):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_page_is_listed(transactional_db, scenario):
    listed = {
        *anonymous_pages(scenario),
        *buyer_pages(scenario),
        *seller_pages(scenario),
    }
    covered = set()
    for path in {path.split("?")[0] for path in listed}:
        try:
            covered.add(resolve(path).view_name)
        except Resolver404:  # the 404 page
            continue
    missing = set(_names(get_resolver().url_patterns)) - covered - NOT_PAGES
    assert not missing, f"pages with no accessibility check: {sorted(missing)}"

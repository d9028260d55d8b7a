"""Every refusal has a code and a translated message, written once in its app's catalogue
(``<app>/errors.py``): the code raised is in the catalogue, the catalogue says nothing no one
raises, and no module types a code and a message inline."""

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.encoding import force_str

from core.errors import InvalidInput, ServiceError, code_of

# App → its catalogue module.
CATALOGUES = {
    "core": "core.errors",
    "alipay": "alipay.errors",
    "shops": "shops.errors",
    "orders": "orders.errors",
    "insurance": "insurance.errors",
    "claims": "claims.errors",
    "notices": "notices.errors",
    "web": "web.errors",
}
# Refusals callers catch by their own class, and the status that class answers with.
OWN_STATUS = {("core", "idempotency_key_reused"): 422}


def _subclasses(cls: type) -> set[type]:
    return {cls} | {sub for child in cls.__subclasses__() for sub in _subclasses(child)}


def _trees(app: str) -> list[tuple[Path, ast.Module]]:
    """The app's modules (migrations aside) other than its catalogue, parsed."""
    base = Path(settings.BASE_DIR) / app
    catalogue = Path(settings.BASE_DIR, *CATALOGUES[app].split(".")).with_suffix(".py")
    return [
        (path, ast.parse(path.read_text()))
        for path in sorted(base.rglob("*.py"))
        if "migrations" not in path.parts and path != catalogue
    ]


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _calls(trees, names: set[str]) -> list[tuple[Path, ast.Call]]:
    return [
        (path, node)
        for path, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) in names
    ]


@pytest.mark.parametrize("app", CATALOGUES)
def test_every_key_raised_is_in_the_apps_catalogue(app):
    errors = importlib.import_module(CATALOGUES[app]).ERRORS
    raised = {
        (path.name, node.args[0].value)
        for path, node in _calls(_trees(app), {"refusal"})
        if node.args and isinstance(node.args[0], ast.Constant)
    }
    assert raised, f"{app} raises nothing through its catalogue"
    assert {key for _file, key in raised if key not in errors} == set()


@pytest.mark.parametrize("app", CATALOGUES)
def test_no_module_builds_a_refusal_inline(app):
    classes = {cls.__name__ for cls in _subclasses(ServiceError)}
    assert {"InvalidInput", "OrderRefused", "CoverageRefused", "ClaimRefused"} <= classes
    inline = [f"{path.name}:{node.lineno}" for path, node in _calls(_trees(app), classes)]
    assert inline == [], f"raise refusal(key) from {CATALOGUES[app]} instead"


@pytest.mark.parametrize("app", CATALOGUES)
def test_every_catalogue_entry_is_raised_somewhere(app):
    """A key is raised by ``refusal("key")``, or is a code another part of the app hands to
    ``refusal`` (an adjudication check's code, a product's reason not to cover)."""
    errors = importlib.import_module(CATALOGUES[app]).ERRORS
    literals = {
        node.value
        for _path, tree in _trees(app)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert {key for key in errors if key not in literals} == set()


@pytest.mark.parametrize("app", CATALOGUES)
def test_each_refusal_has_its_code_status_and_a_message_in_both_languages(app):
    catalogue = importlib.import_module(CATALOGUES[app])
    for key, (message, invalid_input) in catalogue.ERRORS.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*(:[a-z]+(_[a-z]+)*)?", key), key
        params = dict.fromkeys(re.findall(r"%\((\w+)\)s", force_str(message)), "1")
        error = catalogue.refusal(key, **params)
        assert error.code == code_of(key)
        assert isinstance(error, InvalidInput) == invalid_input, key
        assert error.status == OWN_STATUS.get((app, key), 400 if invalid_input else 409), key
        for language in ("zh-hans", "en"):
            with translation.override(language):
                assert error.message.strip(), (key, language)
                assert "%(" not in error.message, (key, language)


def test_one_code_with_several_wordings_keeps_its_code_and_each_wording():
    from orders.errors import refusal

    closed, expired = refusal("order_not_payable:closed"), refusal("order_not_payable:expired")
    assert closed.code == expired.code == "order_not_payable"
    assert closed.message != expired.message

"""The code keeps the shape it promises (issue 9): no app module over 500 lines and no app function
over 60 lines, so a reader sees each workflow's steps. Benchmarks (bench/), scripts, migrations and
tests are left out: they are not apps."""

import ast
from pathlib import Path

from django.conf import settings

APPS = ("core", "alipay", "shops", "orders", "insurance", "claims", "notices", "web", "config")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def app_modules() -> list[Path]:
    base = Path(settings.BASE_DIR)
    missing = [app for app in APPS if not (base / app / "__init__.py").is_file()]
    assert not missing, f"apps moved or renamed: {missing}; update APPS so none drops out unseen"
    return sorted(
        path for app in APPS for path in (base / app).rglob("*.py") if "migrations" not in path.parts
    )


def long_functions(source: str, *, limit: int = MAX_FUNCTION_LINES) -> dict[str, int]:
    """``"name:line" → lines`` for each function or method (nested ones too) longer than ``limit``,
    counted from its ``def`` line to its last line (decorators aside)."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                found[f"{node.name}:{node.lineno}"] = lines
    return found


def _function(name: str, body_lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(body_lines))
    return f"{indent}def {name}():\n{body}"


def test_the_measure_counts_a_function_from_its_def_to_its_last_line():
    source = (
        _function("fits", MAX_FUNCTION_LINES - 1)
        + _function("too_long", MAX_FUNCTION_LINES)
        + "class Service:\n"
        + "    @staticmethod\n"
        + _function("long_method", MAX_FUNCTION_LINES + 5, indent="    ")
        + "async def outer():\n"
        + _function("long_inner", MAX_FUNCTION_LINES, indent="    ")
    )
    too_long_at = MAX_FUNCTION_LINES + 1
    assert long_functions(source) == {
        f"too_long:{too_long_at}": 61,
        f"long_method:{too_long_at + 63}": 66,
        f"outer:{too_long_at + 129}": 62,
        f"long_inner:{too_long_at + 130}": 61,
    }


def test_every_app_is_measured():
    measured = {path.relative_to(settings.BASE_DIR).parts[0] for path in app_modules()}
    assert measured == set(APPS)
    assert len(app_modules()) > 100  # the apps' modules, not an empty glob


def test_no_app_module_is_over_500_lines():
    long = {
        str(path.relative_to(settings.BASE_DIR)): lines
        for path in app_modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (make them packages by job): {long}"


def test_no_app_function_is_over_60_lines():
    long = {
        f"{path.relative_to(settings.BASE_DIR)}::{where}": lines
        for path in app_modules()
        for where, lines in long_functions(path.read_text()).items()
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them at their seams): {long}"

"""The README's scale-out snippet is production-safe as written: copied as it stands (with a
secret where it reads one from a file), it runs with DEBUG off and only the hosts it names, and it
passes Django's deployment checklist with no warning."""

import re
import secrets

from django.conf import settings

from tests.reliability.test_hardening import manage

EXPORT = re.compile(r"^export (?P<name>[A-Z_]+)=(?P<value>\S+)")


def scale_out_snippet() -> str:
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("## Scale out", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh", 1)[1].split("```", 1)[0]


def snippet_environment() -> dict[str, str]:
    env = {}
    for line in scale_out_snippet().splitlines():
        if match := EXPORT.match(line):
            value = match["value"].strip("\"'")
            # A value read from a file or a command ("$(cat …)") is the operator's secret.
            env[match["name"]] = secrets.token_urlsafe(60) if value.startswith("$(") else value
    return env


def test_the_snippet_runs_in_production_mode():
    env = snippet_environment()
    assert env["DJANGO_ENV"] == "production"
    assert "DJANGO_SECRET_KEY" in env and "DJANGO_ALLOWED_HOSTS" in env


def test_the_snippet_turns_debug_off_and_names_its_hosts():
    shown = manage(
        "shell", "-v", "0", "-c", "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)",
        **snippet_environment(),
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    debug, hosts = shown.stdout.strip().split(" ", 1)
    assert debug == "False"
    assert "*" not in hosts and hosts != "[]"


def test_the_snippet_passes_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **snippet_environment())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout

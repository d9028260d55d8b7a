"""The runner (bench/run.py) and the registry: options are checked, scenarios are found by key,
and a partial run keeps the other scenarios' last results."""

import json

import pytest

from bench import registry, run


def test_the_registry_finds_scenarios_by_key_in_their_order():
    keys = [s.key for s in registry.SCENARIOS]
    assert keys[:4] == ["close", "settle", "claims-http", "pages"]
    assert [s.key for s in registry.by_key(["pages", "close"])] == ["close", "pages"]
    with pytest.raises(ValueError, match="unknown scenario nope; known: close, settle"):
        registry.by_key(["nope"])
    for scenario in registry.SCENARIOS:  # every runner can be imported
        module, _, function = scenario.runner.partition(":")
        assert callable(getattr(__import__(module, fromlist=[function]), function))


def test_a_result_has_every_field_of_the_table():
    row = registry.result(key="k", name="n", figures={}, baseline={"what": "w"}, ratio=1.234, goal="g", met=1)
    assert row == {
        "key": "k",
        "name": "n",
        "figures": {},
        "baseline": {"what": "w"},
        "ratio": 1.23,
        "goal": "g",
        "met": True,
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scale", "10,x"], "a comma-separated list of whole numbers, not '10,x'"),
        (["--lines", "0"], "sizes from 1 to 20,000,000"),
        (["--lines", "5,6"], "one whole number, not '5,6'"),
        (["--only", "close,nope"], "unknown scenario nope"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_it_lists_the_scenarios(capsys):
    assert run.main(["--list"]) == 0
    assert "pages" in capsys.readouterr().out


def test_a_partial_run_keeps_the_other_scenarios_results(tmp_path):
    path = tmp_path / "results.json"
    old = [
        {"key": "close", "name": "old close"},
        {"key": "pages", "name": "old pages"},
        {"name": "older format"},
    ]
    path.write_text(json.dumps({"machine": {}, "scenarios": old}))
    merged = run.merge(
        path,
        [{"key": "settle", "name": "new settle"}, {"key": "close", "name": "new close"}],
        ["close", "settle"],
    )
    assert [row["name"] for row in merged] == ["new close", "new settle", "old pages"]

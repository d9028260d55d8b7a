"""The claims-over-HTTP scenario's pieces (bench/claims_http.py) at a tiny size: the tokens, the
claim targets, real requests through the Django test client (not gunicorn), the verification."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bench import claims_http, loads
from bench.simulate import step as simulate
from claims.models import Claim, ClaimState
from insurance.models import Policy


@pytest.fixture
def simulated(db, tmp_path):
    result = simulate(orders=40, price_drop_share=1, claims_share=1, evidence_only=True)
    result["tokens"] = claims_http.tokens_create(campaign=result["campaign"])
    path = tmp_path / "targets.tsv"
    result["written"] = claims_http.targets_write(
        campaign=result["campaign"],
        prefix=result["prefix"],
        evidence_prefix=result["evidence_prefix"],
        path=path,
    )
    result["targets"] = loads.targets_read(path)
    return result


def test_every_buyer_gets_one_token_and_every_policy_one_target(simulated):
    buyers = set(Policy.objects.values_list("buyer_id", flat=True))
    assert simulated["tokens"] == len(buyers) == 4
    assert set(Token.objects.values_list("user_id", flat=True)) == buyers
    assert all(len(key) == 40 and int(key, 16) >= 0 for key in Token.objects.values_list("key", flat=True))
    assert claims_http.tokens_create(campaign=simulated["campaign"]) == 0  # once per buyer
    assert simulated["written"] == len(simulated["targets"]) == 40
    keys = [target[0] for target in simulated["targets"]]
    assert all(a != b for a, b in zip(keys, keys[1:], strict=False))  # consecutive: other buyers


def _post(client, target):
    body, headers = loads.claim_request(target)
    return client.post(
        loads.CLAIMS_PATH,
        data=body,
        content_type=headers["Content-Type"],
        HTTP_AUTHORIZATION=headers["Authorization"],
    )


def test_each_target_files_a_claim_that_the_rules_approve(simulated, django_capture_on_commit_callbacks):
    client = APIClient()
    for target in simulated["targets"][:5]:
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(client, target)
        assert response.status_code == 201, response.content
        assert response.json()["evidence_order_number"] == target[3]
    # The simulated evidence passes every check: the load files claims that would be paid.
    assert set(Claim.objects.values_list("state", flat=True)) <= {ClaimState.APPROVED, ClaimState.PAID}
    assert Claim.objects.count() == 5
    # Filing a target again is refused (one claim per policy): the load never repeats one.
    assert _post(client, simulated["targets"][0]).status_code == 409


def test_the_baseline_request_answers_who_the_buyer_is(simulated):
    key = simulated["targets"][0][0]
    response = APIClient().get(loads.ME_PATH, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["id"] == Token.objects.get(key=key).user_id


def test_verify_counts_the_campaigns_claims(simulated, monkeypatch):
    monkeypatch.setattr(claims_http, "_broker_purge", lambda: 0)
    assert claims_http.verify(campaign=simulated["campaign"]) == {"claims": 0, "states": {}, "enqueued": 0}


def test_options_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BENCH_HTTP_WORKERS", "3")
    monkeypatch.setenv("BENCH_HTTP_WORKER_CLASS", "gthread")
    monkeypatch.setenv("BENCH_HTTP_THREADS", "2")
    options = claims_http.options_from_env()
    assert (options["workers"], options["worker_class"], options["seconds"]) == (3, "gthread", 20.0)
    assert options["concurrency"] == 6
    monkeypatch.setenv("BENCH_HTTP_SECONDS", "soon")
    with pytest.raises(ValueError, match="BENCH_HTTP_SECONDS: 'soon' is not a float"):
        claims_http.options_from_env()

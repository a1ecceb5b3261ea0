"""Route matches remembered per method and path: the same answers as werkzeug's matcher,
without walking the rules again."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from bgserver.api.routing import RememberingMap


def routes() -> RememberingMap:
    rules = RememberingMap()
    rules.add(Rule("/api/v1/contracts/<int:contract_id>", methods=["GET"], endpoint="get"))
    rules.add(Rule("/api/v1/contracts/<int:contract_id>", methods=["PATCH"], endpoint="patch"))
    return rules


def match(rules, method, path):
    rule, params = rules.bind("localhost:8080", "/", path_info=path,
                              default_method=method).match(return_rule=True)
    return rule.endpoint, params


def test_a_path_is_matched_once_and_then_remembered():
    rules = routes()
    assert match(rules, "GET", "/api/v1/contracts/7") == ("get", {"contract_id": 7})
    assert match(rules, "GET", "/api/v1/contracts/8") == ("get", {"contract_id": 8})
    assert match(rules, "PATCH", "/api/v1/contracts/7") == ("patch", {"contract_id": 7})
    assert len(rules.matches) == 3
    rules.matches[("GET", "/api/v1/contracts/7")] = (Rule("/x", endpoint="seen"), {})
    assert match(rules, "GET", "/api/v1/contracts/7")[0] == "seen"  # not walked again


def test_misses_are_not_remembered():
    rules = routes()
    with pytest.raises(NotFound):
        match(rules, "GET", "/api/v1/contracts/x")
    with pytest.raises(MethodNotAllowed):
        match(rules, "DELETE", "/api/v1/contracts/7")
    assert rules.matches == {}


def test_the_oldest_go_when_it_is_full_and_a_new_rule_forgets_all(monkeypatch):
    rules = routes()
    monkeypatch.setattr(rules, "remember", 2)
    for n in (1, 2, 3):
        match(rules, "GET", f"/api/v1/contracts/{n}")
    assert list(rules.matches) == [("GET", "/api/v1/contracts/2"), ("GET", "/api/v1/contracts/3")]
    rules.add(Rule("/api/v1/contracts/<int:contract_id>/x", endpoint="x"))
    assert rules.matches == {}

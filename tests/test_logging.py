from __future__ import annotations

import json

from qvickly_async._logging import mask, mask_customer_number, redact, redact_json


def test_mask_keeps_no_content() -> None:
    assert mask("Åsa") == "***"
    assert mask("a-very-long-street-name 12") == "********"
    assert mask("") == ""


def test_customer_numbers_that_look_personal_are_masked() -> None:
    assert mask_customer_number("10042") == "10042"
    assert mask_customer_number("5501011018") == "********18"
    assert mask_customer_number("550101-1018") == "*********18"
    assert mask_customer_number("19550101-1018") == "***********18"
    assert mask_customer_number("ABCDEFGHIJKL") == "**********KL"


def test_redact_walks_nested_structures() -> None:
    value = {
        "data": {
            "Customer": {
                "pno": "195501011018",
                "Billing": {"firstname": "Tess", "email": "t@example.com", "zip": "12345"},
            },
            "Articles": [{"title": "Mugg", "aprice": "100"}],
        }
    }
    text = json.dumps(redact(value))
    for personal in ("195501011018", "Tess", "t@example.com", "12345"):
        assert personal not in text
    assert "Mugg" in text
    assert "100" in text


def test_redact_json_handles_garbage_and_cuts_long_bodies() -> None:
    assert redact_json(b"<html>") == "<6 bytes, not JSON>"
    long = json.dumps([{"title": "x" * 100}] * 100).encode()
    assert "more chars" in redact_json(long, limit=500)


def test_scrub_free_text() -> None:
    from qvickly_async._logging import scrub

    text = scrub(
        "Personnummer 550101-1018 / 195501011018 mail a.b+c@ex-ample.se tel +46 70 123 45 67"
    )
    for personal in ("550101-1018", "195501011018", "a.b+c@ex-ample.se", "70 123 45 67"):
        assert personal not in text
    assert scrub("invoice 12345 logid 1234567") == "invoice 12345 logid 1234567"

"""The webhook signature and the address rules, without a database or a network."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from pathlib import Path

import pytest

from sync.webhooks.addresses import Refused, check, refusal
from sync.webhooks.config import WebhookConfig
from sync.webhooks.signing import signature, signature_header, verify

BODY = b'{"id":"1","type":"ordering.order.approved"}'


def test_a_signature_verifies_only_with_its_secret_body_and_time() -> None:
    header = signature_header(["whsec_a"], BODY, timestamp=1_700_000_000)
    assert header == f"t=1700000000,v1={signature('whsec_a', 1_700_000_000, BODY)}"
    assert verify("whsec_a", header, BODY, now=1_700_000_000)
    assert verify("whsec_a", header, BODY, now=1_700_000_300)
    assert not verify("whsec_a", header, BODY, now=1_700_000_301)
    assert not verify("whsec_a", header, BODY, now=1_699_999_699)
    assert not verify("whsec_b", header, BODY, now=1_700_000_000)
    assert not verify("whsec_a", header, BODY + b"\n", now=1_700_000_000)
    # a changed timestamp invalidates the signature: it is signed with the body
    assert not verify("whsec_a", header.replace("t=1700000000", "t=1700000100"), BODY, now=1_700_000_100)
    for broken in ("", "t=1700000000", "v1=abc", "t=soon,v1=abc", "garbage"):
        assert not verify("whsec_a", broken, BODY, now=1_700_000_000)


def test_during_a_rotation_either_secret_verifies() -> None:
    header = signature_header(["whsec_new", "whsec_old"], BODY, timestamp=1_700_000_000)
    assert header.count("v1=") == 2
    for secret in ("whsec_new", "whsec_old"):
        assert verify(secret, header, BODY, now=1_700_000_000)
    assert not verify("whsec_other", header, BODY, now=1_700_000_000)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.100.100.200",
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "192.0.2.1",
        "2001:db8::1",
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "allowed", "other"),
    [
        ("http://127.0.0.1:8001/x", {"127.0.0.1:8001"}, "https://127.0.0.1:8002/x"),
        ("http://localhost:8001/x", {"localhost"}, "https://127.0.0.1:8001/x"),
        ("https://[::1]:8443/x", {"[::1]:8443"}, "https://[::1]:9443/x"),
    ],
)
def test_the_allowlist_exempts_exactly_its_hosts(url: str, allowed: set[str], other: str) -> None:
    config = WebhookConfig(allow_hosts=frozenset(allowed))
    assert asyncio.run(check(url, config)).address is None
    with pytest.raises(Refused):
        asyncio.run(check(other, config))


def test_settings_are_read_from_portal_webhook_variables() -> None:
    config = WebhookConfig.from_extra(
        {"WEBHOOK_ALLOW_HOSTS": " Hooks.Internal:8080 , ,127.0.0.1:9", "WEBHOOK_ROTATION_OVERLAP_HOURS": "2"}
    )
    assert config.allow_hosts == {"hooks.internal:8080", "127.0.0.1:9"}
    assert config.rotation_overlap.total_seconds() == 7200
    assert config.allows("HOOKS.internal", 8080) and not config.allows("hooks.internal", 443)


def test_the_verification_example_in_the_docs_works() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = re.search(r"```python\n(.*?)```", docs, re.S)
    assert code
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "docs/webhooks.md", "exec"), namespace)  # noqa: S102 (our own docs)
    example = namespace["verify"]
    assert callable(example)
    header = signature_header(["whsec_new", "whsec_old"], BODY)
    assert example("whsec_old", header, BODY) and example("whsec_new", header, BODY)
    assert not example("whsec_other", header, BODY)
    assert not example("whsec_new", signature_header(["whsec_new"], BODY, timestamp=int(time.time()) - 301), BODY)

"""One client address: every forwarding header line read as one list, walked from the right through
the trusted proxies, so nothing a client writes decides its address, scheme or host
(hub/access/forwarded.py). The same rules behind a real nginx: test_forwarded_addresses.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from hub.access.forwarded import ForwardedReader, Origin
from hub.access.networks import parse_networks
from hub.config import Settings
from hub.signatures.target import target_uri

PROXY = "127.0.0.1"  # the reverse proxy in front of the hub
TRUSTED = parse_networks(["127.0.0.1/32", "10.0.0.0/8", "::1/128"])


def scope(*headers: tuple[str, str], peer: str | None = PROXY) -> dict:
    return {"type": "http", "method": "POST", "path": "/v1/messages", "raw_path": b"/v1/messages",
            "query_string": b"", "scheme": "http", "server": ("10.0.0.20", 8000),
            "client": (peer, 40000) if peer is not None else None,
            "headers": [(name.lower().encode(), value.encode("latin-1")) for name, value in headers]}


def xff(*lines: str, peer: str | None = PROXY, trusted: tuple = TRUSTED) -> Origin:
    return ForwardedReader(trusted).origin(scope(*(("X-Forwarded-For", line) for line in lines), peer=peer))


def fwd(*lines: str, peer: str | None = PROXY, trusted: tuple = TRUSTED) -> Origin:
    return ForwardedReader(trusted, "forwarded").origin(scope(*(("Forwarded", line) for line in lines), peer=peer))


# --- X-Forwarded-For ----------------------------------------------------------------------------


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert xff("10.1.2.3", peer="203.0.113.9") == Origin("203.0.113.9")
    assert xff("10.1.2.3", trusted=()) == Origin(PROXY), "no proxy configured: the header means nothing"


def test_a_forged_first_line_does_not_decide_the_address_behind_a_proxy_that_appends_a_line() -> None:
    # the client sent "127.0.0.9"; the proxy added its own line with the address it saw
    assert xff("127.0.0.9", "203.0.113.7") == Origin("203.0.113.7", (PROXY,))
    assert xff("127.0.0.9", "10.9.9.9, 127.0.0.1", "203.0.113.7").client == "203.0.113.7"


def test_a_forged_leftmost_entry_does_not_decide_the_address_behind_a_proxy_that_merges() -> None:
    assert xff("127.0.0.9, 203.0.113.7").client == "203.0.113.7"
    assert xff("127.0.0.9,203.0.113.7").client == "203.0.113.7"


def test_lines_are_one_list_in_order() -> None:
    assert xff("198.51.100.1", "203.0.113.7, 10.0.0.2", "10.0.0.1") == \
        Origin("203.0.113.7", ("10.0.0.2", "10.0.0.1", PROXY))


def test_forged_trusted_looking_entries_left_of_the_client_are_not_walked() -> None:
    # the client wrote "10.0.0.5" (a trusted range) hoping the walk goes on past its own address
    assert xff("10.0.0.5, 203.0.113.7, 10.0.0.1") == Origin("203.0.113.7", ("10.0.0.1", PROXY))


def test_a_chain_of_only_trusted_hops_ends_at_the_leftmost() -> None:
    assert xff("10.0.0.3, 10.0.0.2") == Origin("10.0.0.3", ("10.0.0.2", PROXY))


def test_garbage_stops_the_walk_at_the_last_trusted_hop() -> None:
    assert xff("203.0.113.7, not-an-address") == Origin(PROXY)
    assert xff("203.0.113.7, 999.1.1.1, 10.0.0.1") == Origin("10.0.0.1", (PROXY,))
    assert xff("203.0.113.7", "1.2.3.4 5.6.7.8").client == PROXY
    assert xff("203.0.113.7, _hidden").client == PROXY


def test_empty_entries_and_lines_are_skipped() -> None:
    assert xff(", ,203.0.113.7,", "").client == "203.0.113.7"
    assert xff("").client == PROXY


def test_ipv6_and_ports() -> None:
    assert xff("2001:db8::5").client == "2001:db8::5"
    assert xff("[2001:db8::5]:4711").client == "2001:db8::5"
    assert xff("203.0.113.7:5555").client == "203.0.113.7"
    assert xff("2001:db8::5", peer="::ffff:127.0.0.1").client == "2001:db8::5", "IPv4-mapped peer is the proxy"
    assert xff("2001:db8::5", peer="::1") == Origin("2001:db8::5", ("::1",))
    assert xff("[2001:db8::5", peer="::1").client == "::1"


def test_an_unparseable_peer_is_unknown_and_matches_nothing() -> None:
    assert xff("203.0.113.7", peer="not-an-ip") == Origin("unknown")
    assert xff("203.0.113.7", peer=None) == Origin("unknown")


def test_proto_and_host_are_the_last_values_over_all_lines_from_a_trusted_peer() -> None:
    reader = ForwardedReader(TRUSTED)
    forged_then_proxy = scope(("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "evil.example"),
                              ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "lienthong.tinh.gov.vn"))
    assert reader.read(PROXY, forged_then_proxy) == Origin(PROXY, (), "https", "lienthong.tinh.gov.vn")
    merged = scope(("X-Forwarded-Proto", "http, HTTPS"), ("X-Forwarded-Host", "evil.example, hub.tinh.gov.vn:8443"))
    assert reader.read(PROXY, merged) == Origin(PROXY, (), "https", "hub.tinh.gov.vn:8443")
    assert reader.read("203.0.113.9", forged_then_proxy) == Origin("203.0.113.9"), "untrusted peer: not believed"
    odd = scope(("X-Forwarded-Proto", "javascript"), ("X-Forwarded-Host", "evil.example/path"))
    assert reader.read(PROXY, odd) == Origin(PROXY), "values that are no scheme or host are ignored"


def test_the_other_style_is_ignored() -> None:
    headers = (("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=198.51.100.4;proto=https;host=a.example"),
               ("X-Forwarded-Proto", "https"))
    assert ForwardedReader(TRUSTED, "x-forwarded").read(PROXY, scope(*headers)) == Origin("203.0.113.7", (PROXY,), "https")
    assert ForwardedReader(TRUSTED, "forwarded").read(PROXY, scope(*headers)) == \
        Origin("198.51.100.4", (PROXY,), "https", "a.example")


# --- RFC 7239 Forwarded -------------------------------------------------------------------------


def test_forwarded_element_syntax() -> None:
    assert fwd("for=192.0.2.60;proto=http;by=203.0.113.43") == Origin("192.0.2.60", (PROXY,), "http")
    assert fwd('for="[2001:db8:cafe::17]:4711"').client == "2001:db8:cafe::17"
    assert fwd('For="192.0.2.43:47011";PROTO=https').client == "192.0.2.43"
    assert fwd("for=192.0.2.43, for=198.51.100.17").client == "198.51.100.17"
    assert fwd("for=192.0.2.43", "for=198.51.100.17").client == "198.51.100.17"
    assert fwd(' for = 192.0.2.43 ').client == PROXY, "no space around '=' (RFC 7239 §4)"


def test_forwarded_from_an_untrusted_peer_is_ignored() -> None:
    assert fwd("for=10.1.2.3;proto=https;host=a.example", peer="203.0.113.9") == Origin("203.0.113.9")


def test_forged_forwarded_elements_do_not_decide_the_address() -> None:
    assert fwd("for=127.0.0.9;proto=https;host=evil.example", "for=203.0.113.7;proto=http;host=hub.example") == \
        Origin("203.0.113.7", (PROXY,), "http", "hub.example")
    assert fwd("for=10.0.0.5, for=203.0.113.7, for=10.0.0.1").client == "203.0.113.7"


def test_obfuscated_and_unknown_identifiers_stop_the_walk() -> None:
    assert fwd("for=203.0.113.7, for=_hidden") == Origin(PROXY)
    assert fwd("for=203.0.113.7, for=unknown;proto=https") == Origin(PROXY, (), "https"), \
        "the element is the trusted proxy's own, so its proto stands"
    assert fwd('for=203.0.113.7, for="_gazonk", for=10.0.0.1').client == "10.0.0.1"


def test_malformed_forwarded_stops_the_walk_but_cannot_swallow_a_proxy_element() -> None:
    assert fwd("for=2001:db8::1").client == PROXY, "IPv6 must be quoted"
    assert fwd("for=1.2.3.4;for=5.6.7.8").client == PROXY, "a parameter at most once per element"
    assert fwd("proto=https").client == PROXY, "an element without for= is not an address"
    assert fwd("garbage").client == PROXY
    assert fwd("for=10.0.0.2;host=inner:8000").client == PROXY, "a value with ':' must be quoted"
    # a client's unterminated quote, merged or on its own line, does not eat the proxy's element
    assert fwd('for="127.0.0.9, for=203.0.113.7').client == "203.0.113.7"
    assert fwd('for="127.0.0.9', "for=203.0.113.7").client == "203.0.113.7"
    assert fwd('for="1.2.3.4\\"x", for=203.0.113.7').client == "203.0.113.7"
    # as nginx appends its element (with a quoted host) to a client's unterminated quote
    assert fwd('for="127.0.0.9, for=203.0.113.7;proto=http;host="hub.example:8080"') == \
        Origin("203.0.113.7", (PROXY,), "http", "hub.example:8080")
    assert fwd('for="127.0.0.9;host=", for=203.0.113.7;host="a.example"').host == "a.example"


def test_forwarded_proto_and_host_come_from_the_outermost_believed_element() -> None:
    lines = ("for=203.0.113.7;proto=https;host=lienthong.tinh.gov.vn", 'for=10.0.0.2;proto=http;host="inner:8000"')
    assert fwd(*lines) == Origin("203.0.113.7", ("10.0.0.2", PROXY), "https", "lienthong.tinh.gov.vn")
    assert fwd("for=203.0.113.7", "for=10.0.0.2;proto=https;host=a.example").scheme == "https", \
        "missing on the outermost: the next believed element inward"
    assert fwd('for=203.0.113.7;host="hub.example:8443"').host == "hub.example:8443"
    assert fwd('for=203.0.113.7;host="evil example"').host is None


# --- settings, caching and the signature's @target-uri ---------------------------------------------


def test_the_style_setting_accepts_only_the_two_styles() -> None:
    assert Settings(forwarded_header="forwarded").forwarded_header == "forwarded"
    assert Settings().forwarded_header == "x-forwarded"
    with pytest.raises(ValidationError):
        Settings(forwarded_header="x-real-ip")
    with pytest.raises(ValueError):
        ForwardedReader(TRUSTED, "both")  # type: ignore[arg-type]


def test_the_origin_is_read_once_per_request() -> None:
    s = scope(("X-Forwarded-For", "203.0.113.7"))
    reader = ForwardedReader(TRUSTED)
    first = reader.origin(s)
    s["headers"].append((b"x-forwarded-for", b"198.51.100.1"))
    assert reader.origin(s) is first and s["state"]["origin"] is first


def test_target_uri_uses_the_proxy_given_scheme_and_host_not_a_forged_one() -> None:
    reader = ForwardedReader(TRUSTED)
    headers = (("Host", "10.0.0.20:8000"), ("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "evil.example"),
               ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "lienthong.tinh.gov.vn"))
    assert target_uri(Request(scope(*headers)), reader) == "https://lienthong.tinh.gov.vn/v1/messages"
    assert target_uri(Request(scope(*headers, peer="203.0.113.9")), reader) == "http://10.0.0.20:8000/v1/messages"
    forwarded = ForwardedReader(TRUSTED, "forwarded")
    fheaders = (("Host", "10.0.0.20:8000"), ("X-Forwarded-Host", "evil.example"),
                ("Forwarded", "for=1.2.3.4;proto=http;host=evil.example"),
                ("Forwarded", 'for=203.0.113.7;proto=https;host="lienthong.tinh.gov.vn"'))
    assert target_uri(Request(scope(*fheaders)), forwarded) == "https://lienthong.tinh.gov.vn/v1/messages"

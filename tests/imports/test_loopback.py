"""The sign-in redirect server, driven by real HTTP requests on loopback."""

from __future__ import annotations

import threading

import pytest
import requests

from base.errors import UserFacingError
from player.imports.loopback import LoopbackRedirectServer


def visit(url: str) -> requests.Response:
    return requests.get(url, timeout=5)


def test_code_with_matching_state_is_handed_over():
    with LoopbackRedirectServer("http://127.0.0.1:0/callback", "s1") as server:
        assert server.redirect_uri.startswith("http://127.0.0.1:")
        assert visit(server.redirect_uri + "/../favicon.ico").status_code == 404
        reply = visit(server.redirect_uri + "?code=abc&state=s1")
        assert reply.status_code == 200 and "close this window" in reply.text
        assert server.wait(1) == "abc"


def test_wrong_state_is_refused_as_forgery():
    with LoopbackRedirectServer("http://127.0.0.1:0/cb", "expected") as server:
        assert visit(server.redirect_uri + "?code=abc&state=evil").status_code == 400
        with pytest.raises(UserFacingError, match="possible forgery"):
            server.wait(1)


def test_declined_consent_is_explained():
    with LoopbackRedirectServer("http://127.0.0.1:0/cb", "s") as server:
        visit(server.redirect_uri + "?error=access_denied&state=s")
        with pytest.raises(UserFacingError, match="you declined access"):
            server.wait(1)


def test_no_visit_times_out_with_a_message():
    with (
        LoopbackRedirectServer("http://127.0.0.1:0/cb", "s") as server,
        pytest.raises(UserFacingError, match="no sign-in arrived"),
    ):
        server.wait(0.05)


def test_busy_port_and_non_loopback_uri_are_explained():
    with LoopbackRedirectServer("http://127.0.0.1:0/cb", "s") as first:
        port = first.redirect_uri.split(":")[2].split("/")[0]
        with (
            pytest.raises(UserFacingError, match="cannot listen"),
            LoopbackRedirectServer(f"http://127.0.0.1:{port}/cb", "s"),
        ):
            pass
    with pytest.raises(UserFacingError, match="loopback"):
        LoopbackRedirectServer("https://example.com/callback", "s")


def test_server_stops_on_exit():
    with LoopbackRedirectServer("http://127.0.0.1:0/cb", "s") as server:
        uri = server.redirect_uri
    with pytest.raises(requests.ConnectionError):
        visit(uri + "?code=x&state=s")
    assert not [t for t in threading.enumerate() if t.name == "oauth-redirect"]

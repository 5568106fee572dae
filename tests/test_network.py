"""The suite never reaches the network: pytest-socket (see addopts in pyproject.toml) refuses any host
but this machine, before a packet is sent."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError

pytestmark = pytest.mark.unit


@pytest.mark.filterwarnings("ignore:A test tried to use socket")  # pytest-socket warns as it refuses
def test_a_connection_to_an_outside_address_is_refused() -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737), never routed: only pytest-socket can answer this fast and this way.
    with pytest.raises(SocketConnectBlockedError, match=r'host "192\.0\.2\.1"'):
        socket.create_connection(("192.0.2.1", 80), timeout=5)


def test_a_server_on_this_machine_can_still_be_reached() -> None:
    # Local services (PostgreSQL on 127.0.0.1, a Chroma or app server in a subprocess) stay usable.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5), server.accept()[0]:
            pass

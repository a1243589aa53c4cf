"""Fixtures for connector tests: the DVCQG adapter simulator as a real subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Callable, Iterator

import httpx
import pytest

from connectors.national_dvc.connector import NationalDvcConnector
from hub.config import ROOT, Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def dvc_sim_server() -> Iterator[str]:
    """Start ``python -m connectors.national_dvc.simulator`` once, wait until it answers, stop it at the end."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.national_dvc.simulator", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                httpx.get(f"{url}/_sim/state", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the DVCQG simulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def dvc_sim(dvc_sim_server: str) -> str:
    """Base URL of the running simulator, reset (state, sessions, faults) for this test."""
    httpx.post(f"{dvc_sim_server}/_sim/reset").raise_for_status()
    return dvc_sim_server


@pytest.fixture
def dvc_connector(dvc_sim: str) -> Iterator[Callable[..., NationalDvcConnector]]:
    """Factory of connectors pointed at the simulator; all are closed after the test."""
    made: list[NationalDvcConnector] = []

    def make(timeout: float = 3.0) -> NationalDvcConnector:
        connector = NationalDvcConnector.from_settings(Settings(dvc_adapter_url=dvc_sim, dvc_timeout=timeout))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()

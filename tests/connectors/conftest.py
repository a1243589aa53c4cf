"""Fixtures for connector tests: the DVCQG adapter simulator as a real subprocess."""

from __future__ import annotations

from typing import Callable, Iterator

import httpx
import pytest

from connectors.national_dvc.connector import NationalDvcConnector
from hub.config import Settings
from hub.context import context
from tests.support import Portal


@pytest.fixture(scope="session")
def dvc_sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The simulator started once for the session (the hub tests' Portal helper), stopped at the end."""
    portal = Portal(tmp_path_factory.mktemp("dvc-sim")).start()
    yield portal.url
    portal.process.stop()


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
        connector = NationalDvcConnector.from_context(context("national_dvc", Settings(), adapter_url=dvc_sim, timeout=timeout))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()

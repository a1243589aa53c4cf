"""The population database simulator for tests: a real HTTP server in its own process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from hub.config import Settings
from tests.support import Process, free_port, settings_env, wait_until


class PopulationSim:
    """``lienthong simulator population-db`` on a free port, with the sandbox account.

    ``keys_dir``: where its WS-Security identity lives (``wsse/``); ``sign_answers`` and
    ``client_cert`` turn WS-Security on (see the simulator's ``create_app``)."""

    def __init__(self, tmp: Path, *, keys_dir: Path | None = None, sign_answers: bool = False,
                 client_cert: Path | None = None, token_ttl: float = 3600.0, name: str = "population-sim") -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base_url}/dancuquocgia"  #: the SOAP endpoint: LIENTHONG_POPULATION_DB_URL
        argv = ["-m", "hub.cli", "simulator", "population-db", "--port", str(self.port), "--token-ttl", str(token_ttl),
                "--keys-dir", str(keys_dir or tmp / "keys")]
        if sign_answers:
            argv.append("--sign-answers")
        if client_cert is not None:
            argv += ["--client-cert", str(client_cert)]
        self.process = Process(argv, settings_env(Settings()), tmp / f"{name}.log")

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def settings(self) -> dict[str, Any]:
        """The population database's settings that point the hub's client here (the token URL follows from the URL)."""
        return {"url": self.url}

    def start(self) -> "PopulationSim":
        self.process.start()
        wait_until(self._up, 30, what="population database simulator")
        return self

    def stop(self) -> None:
        self.process.stop()

    def _up(self) -> bool:
        if self.process.proc is not None and self.process.proc.poll() is not None:
            raise AssertionError(f"simulator exited:\n{self.process.output()}")
        try:
            return httpx.get(f"{self.base_url}/_sim/state", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.base_url}/_sim/state", timeout=5).json()

    def faults(self, **faults: Any) -> None:
        httpx.post(f"{self.base_url}/_sim/faults", json=faults, timeout=5).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.base_url}/_sim/reset", timeout=5).raise_for_status()

"""The population database client against the simulator, SOAP over loopback HTTP (no mocks)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from connectors.population_db import population
from connectors.population_db.client import Credentials, SoapPopulationClient, vault_credentials
from connectors.population_db.errors import PopulationFault, PopulationTimeout, PopulationUnavailable
from connectors.population_db.interface import CitizenQuery, PopulationDbClient, VerifyResult
from connectors.population_db.settings import PopulationDbSettings
from hub.config import Settings
from hub.context import PartnerContext, context
from tests.population import PopulationSim

Factory = Callable[..., SoapPopulationClient]


def hub_context(tmp_path: Path, sim: PopulationSim, **overrides: object) -> PartnerContext:
    """The population database's context as the hub builds it, pointed at ``sim`` (``overrides``: its settings)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", keys_dir=tmp_path / "keys")
    return context("population_db", settings, **{"timeout": 1.0, **sim.settings(), **overrides})


@pytest.fixture
def make_client(population_sim: PopulationSim, tmp_path: Path) -> Iterator[Factory]:
    """Clients built like the hub builds them (``from_context``); closed after the test."""
    made: list[SoapPopulationClient] = []

    def make(**overrides: object) -> SoapPopulationClient:
        made.append(SoapPopulationClient.from_context(hub_context(tmp_path, population_sim, **overrides)))
        return made[-1]

    yield make
    for c in made:
        c.close()


def query(citizen_index: int = 0, **extra: str) -> CitizenQuery:
    return CitizenQuery(request_id=f"YC-{citizen_index}", officer_id="CB-0001",
                        id_number=population.sample(index=citizen_index).SoDinhDanh, **extra)


def household_member_index() -> int:
    """A citizen whose household head is someone else."""
    return population.find_index(lambda c: c.ChuHo is not None and c.ChuHo.SoDinhDanh != c.SoDinhDanh)


def test_client_implements_the_contract(make_client: Factory) -> None:
    assert isinstance(make_client(), PopulationDbClient)


def test_lookup_answers_the_known_citizen_whole(make_client: Factory) -> None:
    index = household_member_index()
    answer = make_client().lookup(query(index))
    assert answer.CongDan == [population.sample(index=index)]
    assert answer.CongDan[0].HoVaTen.Ho in {name for name, _ in population.FAMILY_NAMES}


def test_lookup_with_a_name_that_differs_answers_nobody(make_client: Factory) -> None:
    assert make_client().lookup(query(5, full_name="Không Có Ai")).CongDan == []


def test_unknown_id_is_an_empty_answer_not_an_error(make_client: Factory) -> None:
    known = {c.SoDinhDanh for c in population.shared()}
    unknown = next(f"0229900{n:05d}" for n in range(100000) if f"0229900{n:05d}" not in known)
    answer = make_client().lookup(CitizenQuery(request_id="YC-x", officer_id="CB-0001", id_number=unknown))
    assert answer.CongDan == []


def test_household_head_answers_the_head_and_only_that(make_client: Factory) -> None:
    index = household_member_index()
    expected = population.sample(index=index)
    [found] = make_client().household_head(query(index)).CongDan
    assert found.ChuHo == expected.ChuHo and found.ChuHo.SoDinhDanh != expected.SoDinhDanh
    assert found.NoiOHienTai is None and found.Cha is None  # the other parts are not its business


def test_current_residence_answers_where_the_citizen_lives(make_client: Factory) -> None:
    away = population.find_index(lambda c: c.NoiOHienTai != c.ThuongTru)
    [found] = make_client().current_residence(query(away)).CongDan
    assert found.NoiOHienTai == population.sample(index=away).NoiOHienTai
    assert found.ThuongTru is None


def test_verify_with_matching_data_is_a_match(make_client: Factory) -> None:
    citizen = population.sample(index=7)
    name = population.full_name(citizen.HoVaTen).upper()  # case and NFC do not matter
    answer = make_client().verify(query(7, full_name=name, birth_date=citizen.NgayThangNamSinh.NgayThangNam or ""))
    assert isinstance(answer, VerifyResult)
    assert answer.KetQuaXacThuc is True and [c.SoDinhDanh for c in answer.CongDan] == [citizen.SoDinhDanh]


@pytest.mark.parametrize("wrong", ["name", "birth_date"])
def test_verify_with_non_matching_data_is_no_match_and_tells_nothing(make_client: Factory, wrong: str) -> None:
    citizen = population.sample(index=7)
    given = {"full_name": population.full_name(citizen.HoVaTen), "birth_date": citizen.NgayThangNamSinh.NgayThangNam}
    given["full_name" if wrong == "name" else "birth_date"] = "Nguyễn Văn Khác" if wrong == "name" else "18000101"
    answer = make_client().verify(query(7, **given))
    assert answer.KetQuaXacThuc is False and answer.CongDan == []


def test_verify_without_name_and_birth_date_is_refused_before_calling(make_client: Factory,
                                                                      population_sim: PopulationSim) -> None:
    with pytest.raises(ValueError):
        make_client().verify(query(1))
    assert population_sim.state()["counters"]["calls"]["XacThucThongTinCongDan"] == 0


def test_soap_fault_becomes_population_fault(make_client: Factory, population_sim: PopulationSim) -> None:
    population_sim.faults(fault_next=1)
    with pytest.raises(PopulationFault) as caught:
        make_client().lookup(query())
    assert caught.value.code == "LOI_HE_THONG"
    assert "Lỗi hệ thống" not in caught.value.message  # the hub's words, not the partner's faultstring


def test_http_500_is_unavailable(make_client: Factory, population_sim: PopulationSim) -> None:
    population_sim.faults(fail_next=1)
    client = make_client()
    with pytest.raises(PopulationUnavailable, match="HTTP 500"):
        client.lookup(query())
    assert client.lookup(query()).CongDan  # the next call goes through


def test_hang_is_a_timeout_within_the_configured_timeout(make_client: Factory, population_sim: PopulationSim) -> None:
    client = make_client(timeout=0.5)
    client.lookup(query())  # token fetched, connection warm: only the hang is measured
    population_sim.faults(hang_next=1, hang_seconds=10)
    started = time.monotonic()
    with pytest.raises(PopulationTimeout):
        client.lookup(query())
    assert time.monotonic() - started < 5  # well before the simulator's 10 s hang ends


def test_connection_refused_is_unavailable(tmp_path: Path, population_sim: PopulationSim) -> None:
    client = SoapPopulationClient.from_context(hub_context(tmp_path, population_sim,
                                                             token_url="http://127.0.0.1:9/oauth/token"))
    with pytest.raises(PopulationUnavailable, match="token"):
        client.lookup(query())


def test_token_endpoint_down_is_unavailable(make_client: Factory, population_sim: PopulationSim) -> None:
    population_sim.faults(token_down=True)
    with pytest.raises(PopulationUnavailable, match="503"):
        make_client().lookup(query())


def test_expired_token_is_refreshed_transparently(make_client: Factory, population_sim: PopulationSim) -> None:
    client = make_client()
    client.lookup(query())
    population_sim.faults(expire_tokens=True)
    assert client.lookup(query(2)).CongDan == [population.sample(index=2)]
    counters = population_sim.state()["counters"]
    assert counters["tokens_issued"] == 2 and counters["unauthorized"] == 1


def test_token_is_reused_until_it_nears_expiry(make_client: Factory, population_sim: PopulationSim) -> None:
    client = make_client()
    for i in range(3):
        client.lookup(query(i))
    assert population_sim.state()["counters"]["tokens_issued"] == 1


def test_wrong_integration_codes_are_a_fault(population_sim: PopulationSim) -> None:
    good = PopulationDbSettings()
    for codes, expected in (({"ma_dvc": "000.00.00.X99"}, "MA_DVC_KHONG_HOP_LE"),
                            ({"ma_tich_hop": "SAI"}, "MA_TICH_HOP_KHONG_HOP_LE")):
        values = {"ma_dvc": good.ma_dvc, "ma_tich_hop": good.ma_tich_hop, **codes}
        client = SoapPopulationClient(population_sim.url, population_sim.token_url,
                                      Credentials(good.client_id, good.client_secret,
                                                  **values), 2.0)
        with pytest.raises(PopulationFault) as caught:
            client.lookup(query())
        assert caught.value.code == expected
        client.close()


def test_integration_codes_come_from_the_vault(tmp_path: Path, population_sim: PopulationSim) -> None:
    from hub.store.migrate import upgrade
    from hub.vault.store import Vault, vault_for

    ctx = hub_context(tmp_path, population_sim)
    upgrade(ctx.hub.effective_database_url)
    assert vault_credentials(ctx).ma_dvc == ctx.settings.ma_dvc  # unset: the sandbox fallback
    vault = vault_for(ctx.hub)
    assert isinstance(vault, Vault)
    vault.put("population_db.ma_tich_hop", "MA-TU-KET", actor="test")
    client = SoapPopulationClient.from_context(ctx)
    assert client.request(query()).MaTichHop == "MA-TU-KET"
    with pytest.raises(PopulationFault) as caught:  # the simulator expects the sandbox code
        client.lookup(query())
    assert caught.value.code == "MA_TICH_HOP_KHONG_HOP_LE"
    client.close()


def test_logs_name_the_request_never_the_citizen(make_client: Factory, caplog: pytest.LogCaptureFixture) -> None:
    citizen = population.sample(index=3)
    caplog.set_level(logging.DEBUG)
    make_client().lookup(query(3))
    text = caplog.text
    assert "YC-3" in text and "TraCuuThongTinCongDan" in text
    assert citizen.SoDinhDanh not in text and (citizen.HoVaTen.Ten or "") not in text


def test_simulator_state_holds_no_citizen_data(make_client: Factory, population_sim: PopulationSim) -> None:
    citizen = population.sample(index=4)
    make_client().lookup(query(4))
    state = str(population_sim.state())
    assert "YC-4" in state and citizen.SoDinhDanh not in state

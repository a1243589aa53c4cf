"""The population database simulator speaks the partner's protocol: WSDL, OAuth, SOAP Faults."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from connectors.population_db import population
from connectors.population_db.interface import NAMESPACE
from connectors.population_db.settings import PopulationDbSettings
from tests.population import PopulationSim

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SANDBOX = PopulationDbSettings()


def token(sim: PopulationSim, secret: str = SANDBOX.client_secret) -> httpx.Response:
    return httpx.post(sim.token_url, data={"grant_type": "client_credentials"},
                      auth=(SANDBOX.client_id, secret), timeout=5)


def soap(sim: PopulationSim, body: str, operation: str = "TraCuuThongTinCongDan", bearer: str | None = None) -> httpx.Response:
    bearer = bearer if bearer is not None else token(sim).json()["access_token"]
    envelope = (f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:dc="{NAMESPACE}"><soap:Body>'
                f'<dc:{operation}>{body}</dc:{operation}></soap:Body></soap:Envelope>')
    return httpx.post(sim.url, content=envelope.encode(), timeout=5,
                      headers={"Content-Type": "text/xml; charset=utf-8", "Authorization": f"Bearer {bearer}"})


def fields(**values: str) -> str:
    defaults = {"MaYeuCau": "YC-1", "MaDVC": SANDBOX.ma_dvc, "MaTichHop": SANDBOX.ma_tich_hop,
                "MaCanBo": "CB-1", "SoDinhDanh": population.sample(index=0).SoDinhDanh}
    merged = {**defaults, **values}
    return "".join(f"<dc:{k}>{v}</dc:{k}>" for k, v in merged.items() if v is not None)


def fault_code(response: httpx.Response) -> str:
    assert response.status_code == 500 and "xml" in response.headers["content-type"]
    return etree.fromstring(response.content).findtext(f".//{{{NAMESPACE}}}MaLoi") or ""


def test_wsdl_is_served_with_its_own_address(population_sim: PopulationSim) -> None:
    response = httpx.get(f"{population_sim.url}?wsdl", timeout=5)
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == population_sim.url
    assert wsdl.get("targetNamespace") == NAMESPACE


def test_token_needs_the_right_client_secret(population_sim: PopulationSim) -> None:
    assert token(population_sim, "wrong").status_code == 401
    good = token(population_sim)
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer" and good.json()["expires_in"] > 0


def test_call_without_a_valid_token_is_401(population_sim: PopulationSim) -> None:
    assert soap(population_sim, fields(), bearer="made-up").status_code == 401
    assert population_sim.state()["counters"]["unauthorized"] == 1


def test_answer_is_a_congdan_collection_in_the_namespace(population_sim: PopulationSim) -> None:
    response = soap(population_sim, fields())
    assert response.status_code == 200
    answer = etree.fromstring(response.content)
    ids = answer.findall(f".//{{{NAMESPACE}}}TraCuuThongTinCongDanResponse/{{{NAMESPACE}}}CongdanCollection/"
                         f"{{{NAMESPACE}}}CongDan/{{{NAMESPACE}}}SoDinhDanh")
    assert [e.text for e in ids] == [population.sample(index=0).SoDinhDanh]


@pytest.mark.parametrize(("body", "code"), [
    (fields(MaDVC=None), "MA_DVC_KHONG_HOP_LE"),
    (fields(MaDVC="000.00.00.X99"), "MA_DVC_KHONG_HOP_LE"),
    (fields(MaTichHop="SAI"), "MA_TICH_HOP_KHONG_HOP_LE"),
    (fields(MaCanBo=None), "THIEU_THONG_TIN"),
    (fields(SoDinhDanh="12345"), "SO_DINH_DANH_KHONG_HOP_LE"),
])
def test_bad_requests_are_soap_faults_naming_the_rule(population_sim: PopulationSim, body: str, code: str) -> None:
    assert fault_code(soap(population_sim, body)) == code


def test_verification_without_name_and_birth_date_is_a_fault(population_sim: PopulationSim) -> None:
    response = soap(population_sim, fields(), operation="XacThucThongTinCongDan")
    assert fault_code(response) == "THIEU_THONG_TIN"
    assert "HoVaTen" in (etree.fromstring(response.content).findtext(".//faultstring") or "")


def test_unknown_operation_and_broken_xml_are_faults(population_sim: PopulationSim) -> None:
    assert fault_code(soap(population_sim, fields(), operation="CungCapThongTinCongDanBatKy")) == "THAO_TAC_KHONG_HO_TRO"
    bearer = token(population_sim).json()["access_token"]
    broken = httpx.post(population_sim.url, content=b"<soap:Envelope", timeout=5,
                        headers={"Authorization": f"Bearer {bearer}"})
    assert fault_code(broken) == "YEU_CAU_KHONG_HOP_LE"


def test_entities_are_not_expanded(population_sim: PopulationSim) -> None:
    bearer = token(population_sim).json()["access_token"]
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&e;</soap:Body></soap:Envelope>')
    response = httpx.post(population_sim.url, content=evil, timeout=5, headers={"Authorization": f"Bearer {bearer}"})
    assert b"root:" not in response.content and response.status_code == 500

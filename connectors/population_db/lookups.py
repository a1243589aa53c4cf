"""The population database's look-ups as the hub offers them: ``POST /v1/citizens/{lookup,verify,household,residence}``.

Each operation maps the canonical request (``hub.seam.CitizenQueryIn``) to the database's
:class:`~.interface.CitizenQuery`, calls the SOAP client and maps ``CongdanCollection`` back to the
canonical answer (:mod:`.answers`). The database's own errors become the seam's
``LookupTimeout`` / ``LookupFault`` / ``LookupUnavailable``; the edge answers them as problems and
does everything else (the key's scope, the officer's tier, the access record, the threads).
"""

from __future__ import annotations

from typing import Any, Callable

from connectors.population_db import answers
from connectors.population_db.errors import PopulationFault, PopulationTimeout, PopulationUnavailable
from connectors.population_db.interface import CitizenQuery, CongdanCollection
from hub.seam import (
    CitizenQueryIn,
    CitizensOut,
    Context,
    LookupFault,
    LookupOperation,
    Lookups,
    LookupTimeout,
    LookupUnavailable,
    VerifyIn,
    VerifyOut,
)


def _asker(method: str, build: Callable[[CongdanCollection], dict[str, Any]]) -> Callable[[Any, CitizenQueryIn, str], dict[str, Any]]:
    def ask(client: Any, body: CitizenQueryIn, request_id: str) -> dict[str, Any]:
        query = CitizenQuery(request_id=request_id, officer_id=body.officer_code, id_number=body.id_number,
                             full_name=body.full_name, birth_date=answers.partner_birth_date(body.birth_date))
        try:
            return build(getattr(client, method)(query))
        except PopulationTimeout:
            raise LookupTimeout() from None
        except PopulationFault as fault:
            raise LookupFault(str(fault.code)) from None
        except PopulationUnavailable:
            raise LookupUnavailable() from None
    return ask


def _client(ctx: Context) -> Any:
    from connectors.population_db.client import SoapPopulationClient  # loading the WSDL takes a while: on first use

    return SoapPopulationClient.from_context(ctx)


LOOKUPS = Lookups(
    prefix="/v1/citizens",
    tag="citizens",
    called="the population database",
    client=_client,
    concurrency=lambda ctx: ctx.settings.concurrency,
    problems={"timeout": "population-db-timeout", "fault": "population-db-fault",
              "unavailable": "population-db-unavailable"},
    operations=(
        LookupOperation("lookup", CitizenQueryIn, CitizensOut, _asker("lookup", answers.citizens),
                        "The citizen with this ID", "The citizen with this ID (``TraCuuThongTinCongDan``)."),
        LookupOperation("verify", VerifyIn, VerifyOut, _asker("verify", answers.verified),
                        "Whether ID, name and birth date match one citizen",
                        "Whether ID, name and birth date match one citizen (``XacThucThongTinCongDan``); answers "
                        "only ``match``."),
        LookupOperation("household", CitizenQueryIn, CitizensOut, _asker("household_head", answers.citizens),
                        "The citizen with their household head",
                        "The citizen with their household head (``XacMinhThongTinChuHo``)."),
        LookupOperation("residence", CitizenQueryIn, CitizensOut, _asker("current_residence", answers.citizens),
                        "The citizen with their current residence",
                        "The citizen with their current residence (``XacMinhThongTinNoiOHienTai``)."),
    ),
)

"""The canonical look-up shapes: what an officer's system sends, and the canonical citizen it gets back.

Requests and answers are JSON with English field names; a partner's own format (the population
database's SOAP/XML ``CongdanCollection/CongDan``) never reaches a caller: its connector maps it. Dates are ISO 8601: ``1990-04-12``, or
``1948`` when only the birth year is registered.

A request may carry ``officer_context``: the officer's own client address and device as the
one-stop system saw them (seed 001 Đ29.7: IP, device name, OS, browser version, MAC if any). The
hub cannot check them (only the calling server's address is its own observation); it checks
their form (a real IP address, bounded lengths, no control characters, NFC) and stores them in
the access record beside the server's address (``officer_*`` columns, hash-chained).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from hub.messages.codes import OFFICER_CODE_PATTERN, DossierCode, Text


def lookup_summary(operation: str, dossier_code: str) -> str:
    """What a look-up's access record says it was (its ``summary``; never the citizen): how a dossier's
    trace finds the look-ups made for it (``hub.store.queries.dossier_lookups``)."""
    return f"citizens.{operation} for dossier {dossier_code}"


BirthDate = Annotated[str, Field(pattern=r"^\d{4}(-\d{2}-\d{2})?$", description="YYYY-MM-DD, or YYYY if only the year is known",
                                 examples=["1990-04-12"])]


def _ip(value: str) -> str:
    """An IPv4 or IPv6 address, in its compressed form (``2001:db8::1``); no zone (``%eth0``)."""
    try:
        if "%" in value:
            raise ValueError
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise PydanticCustomError("ip_address", "an IPv4 or IPv6 address, e.g. 203.0.113.7 or 2001:db8::7") from None


def _mac(value: str) -> str:
    return value.upper().replace("-", ":")


_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control characters: these values are shown, exported and searched
IpAddress = Annotated[str, Field(max_length=45, examples=["203.0.113.7"]), AfterValidator(_ip)]
DeviceText = Annotated[Text, Field(min_length=1, max_length=60, pattern=_PRINTABLE)]
MacAddress = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$", examples=["3C:52:82:1A:2B:3C"]),
                       AfterValidator(_mac)]


class OfficerContext(BaseModel):
    """The officer's own client, as the one-stop system reports it (seed 001 Đ29.7)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ip: IpAddress = Field(description="the officer's client address as the one-stop system saw it")
    device: DeviceText | None = Field(None, description="device name", examples=["Dell OptiPlex 7090"])
    os: DeviceText | None = Field(None, description="operating system and version", examples=["Windows 10"])
    browser: DeviceText | None = Field(None, description="browser and version", examples=["Chrome 120.0"])
    mac: MacAddress | None = Field(None, description="the device's MAC address, if the one-stop system knows it")


class CitizenQueryIn(BaseModel):
    """One look-up: who asks, why, for which dossier, and whom."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    officer_code: Text = Field(pattern=OFFICER_CODE_PATTERN, description="MaCanBo of the officer asking; registered")
    purpose: Text = Field(min_length=10, max_length=500, description="the legal purpose of the look-up",
                          examples=["Xác minh nhân thân để giải quyết hồ sơ cấp bản sao trích lục hộ tịch"])
    dossier_code: DossierCode = Field(description="the dossier the look-up serves", examples=["000.00.00.H49-261123-0001"])
    id_number: str = Field(pattern=r"^\d{12}$", description="12-digit personal ID (số định danh)")
    full_name: Text | None = Field(None, min_length=1, max_length=200)
    birth_date: BirthDate | None = None
    officer_context: OfficerContext | None = Field(None, description="the officer's own client address and device "
                                                   "(seed 001 Đ29.7), kept in the access record")


class VerifyIn(CitizenQueryIn):
    """A verification: do ID, name and birth date belong to one citizen?"""

    full_name: Text = Field(min_length=1, max_length=200)
    birth_date: BirthDate


class Address(BaseModel):
    province_code: str | None = None
    district_code: str | None = None
    ward_code: str | None = None
    detail: str | None = None


class Person(BaseModel):
    """A related person: household head, father, mother, spouse."""

    id_number: str | None = None
    old_id_number: str | None = None
    full_name: str | None = None


class CitizenOut(BaseModel):
    """One citizen, mapped from the database's ``CongDan``."""

    id_number: str
    old_id_number: str | None = Field(None, description="old 9-digit ID card (CMND)")
    full_name: str
    family_name: str | None = None
    middle_name: str | None = None
    given_name: str | None = None
    gender: Literal["male", "female"] | str | None = None
    birth_date: str | None = Field(None, description="YYYY-MM-DD, or YYYY")
    permanent_address: Address | None = None
    current_address: Address | None = None
    household_head: Person | None = None
    father: Person | None = None
    mother: Person | None = None
    spouse: Person | None = None


class CitizensOut(BaseModel):
    """The answer of lookup, household and residence: the citizens found (none: an empty list)."""

    citizens: list[CitizenOut]


class VerifyOut(BaseModel):
    """The answer of verify: whether the data matches one citizen, and nothing else."""

    match: bool

"""A SOAP ministry system through zeep: the WSDL read once per adapter version, calls with WS-Security.

zeep checks the arguments against the WSDL's schema when it builds the envelope, so ``check`` and
``try`` build it without sending (:meth:`SoapSide.check`, :meth:`SoapSide.envelope`). A SOAP Fault
becomes an :class:`Answer` with its fault code (``soap:Server``, ``wsse:FailedAuthentication``...);
an HTTP error without a fault, its status; a connection that fails, ``httpx.TransportError`` (the
connector's transient path is one for REST and SOAP).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from connectors.ministry_apps.answers import Answer
from connectors.ministry_apps.templates import MappingError

if TYPE_CHECKING:
    from connectors.ministry_apps.outgoing import Outgoing


def _plain(value: Any) -> Any:
    """A zeep answer as JSON-like data (dates and decimals as text)."""
    from zeep.helpers import serialize_object

    return orjson.loads(orjson.dumps(serialize_object(value, dict), default=str))


class SoapSide:
    """The WSDL of one adapter version (``wsdl``: a file path or URL), the address calls go to."""

    def __init__(self, wsdl: str, address: str | None, service: str | None, port: str | None) -> None:
        self.wsdl, self.address, self.service_name, self.port_name = wsdl, address, service, port
        self._checker: Any = None

    def _client(self, wsse: Any = None, timeout: float = 10.0) -> Any:
        from zeep import Client, Settings
        from zeep.transports import Transport

        location = self.wsdl if "://" in self.wsdl else Path(self.wsdl).as_uri()
        return Client(location, wsse=wsse, transport=Transport(timeout=timeout, operation_timeout=timeout),
                      settings=Settings(strict=True, xml_huge_tree=False, forbid_entities=True, forbid_dtd=True))

    def _bound(self, client: Any) -> Any:
        services = client.wsdl.services
        service = services[self.service_name] if self.service_name else next(iter(services.values()))
        port = service.ports[self.port_name] if self.port_name else next(iter(service.ports.values()))
        if self.address:
            return client.create_service(port.binding.name, self.address)
        return client.bind(service.name, port.name)

    def service(self, wsse: Any, timeout: float) -> Any:
        """A bound service proxy that signs with ``wsse`` (zeep's UsernameToken, or None)."""
        client = self._client(wsse, timeout)
        return client, self._bound(client)

    def operations(self) -> set[str]:
        """The operations the WSDL's port offers."""
        client, bound = self._checking()
        return set(bound._binding._operations)

    def _checking(self) -> tuple[Any, Any]:
        if self._checker is None:
            self._checker = self.service(None, 10.0)
        return self._checker  # type: ignore[no-any-return]

    def envelope(self, out: "Outgoing") -> str:
        """The SOAP envelope ``out`` would be (checked against the WSDL's schema), as text."""
        from lxml import etree
        from zeep.exceptions import Error as ZeepError

        client, bound = self._checking()
        if out.operation not in self.operations():
            raise MappingError("operation", f"the WSDL has no operation {out.operation!r} "
                                            f"(it has {', '.join(sorted(self.operations()))})")
        try:
            node = client.create_message(bound, out.operation, **dict(out.args))
        except (ZeepError, TypeError, ValueError) as exc:
            raise MappingError("args", f"the arguments do not meet the WSDL: {exc}"[:400]) from None
        return str(etree.tostring(node, pretty_print=True, encoding="unicode"))

    def check(self, out: "Outgoing") -> None:
        """Raise :class:`MappingError` if ``out``'s arguments do not meet the WSDL."""
        self.envelope(out)

    def call(self, proxy: Any, out: "Outgoing") -> Answer:
        """Call the operation; its answer, a fault, or an HTTP error as an :class:`Answer`."""
        import requests
        from zeep.exceptions import Fault, TransportError
        from zeep.exceptions import ValidationError as ZeepValidation

        client, bound = proxy
        try:
            result = getattr(bound, str(out.operation))(**dict(out.args))
        except Fault as fault:
            return Answer(500, None, "", fault=str(fault.code or "soap:Server"), fault_text=str(fault.message or ""))
        except TransportError as exc:
            return Answer(int(exc.status_code or 502), None, (exc.content or b"")[:2000].decode("utf-8", "replace")
                          if isinstance(exc.content, bytes) else str(exc.content or ""))
        except ZeepValidation as exc:
            raise MappingError("args", f"the arguments do not meet the WSDL: {exc}"[:400]) from None
        except requests.Timeout as exc:
            raise httpx.TimeoutException(f"SOAP call timed out: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise httpx.ConnectError(f"SOAP call failed: {type(exc).__name__}") from None
        return Answer(200, _plain(result))

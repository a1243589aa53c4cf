"""The national payment platform (Nền tảng thanh toán trên Cổng Dịch vụ công quốc gia), v1.0.6.

The platform belongs to the national portal: a citizen pays a dossier's fees there and the platform
confirms the payment to the province with a callback. One job per module:

* :mod:`.checksum`: the ``MaXacThuc`` checksums (field lists, compute, verify);
* :mod:`.wire`: pydantic models of INIT, QUERY, GET_BILL, the callback and its reply;
* :mod:`.callback`: a received callback checked and turned into a canonical ``payment.confirmed``;
* :mod:`.client`: the hub's HTTP client for INIT and QUERY;
* :mod:`.inbound`: the hub's callback endpoint ``POST /v1/payments/callback``, a route its manifest adds;
* :mod:`.records`: the payments the hub knows of; :mod:`.secret`: the shared secret;
* :mod:`.simulator`: the platform as a real HTTP server, for the sandbox and the tests.

Its manifest is ``manifest.py`` (code ``national_payment``), exported by the portal's.
README.md in this folder gives the formats, codes and assumptions.
"""

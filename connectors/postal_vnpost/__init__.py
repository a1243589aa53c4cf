"""Postal operator (VNPost, the public-administration postal service "BCCI") connector.

VNPost collects dossiers from citizens' homes and delivers paper results back to them; the hub
books those orders and reads their tracking events. The wire layer exists: the contract
(``interface.py``), the HTTP client (``client.py``), the simulator (``simulator.py``, ``cli.py``)
and the JSON Schemas (``wire.py`` -> ``schemas/postal_vnpost/``). The outbound connector, the
mapping from canonical messages and the feed job come next. See README.md in this folder.
"""

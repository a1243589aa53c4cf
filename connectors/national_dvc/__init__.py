"""National public-service portal (Cổng Dịch vụ công quốc gia, DVCQG) connector.

The hub uses :class:`connectors.national_dvc.connector.NationalDvcConnector` (registered in
``connectors/registry.py``); README.md in this folder gives the wire format, the error
classification, the mapping table and the simulator.
"""

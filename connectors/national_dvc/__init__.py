"""National public-service portal (Cổng Dịch vụ công quốc gia, DVCQG) connector.

The hub finds it through ``manifest.py`` (which also exports the payment platform, ``payment/``)
and delivers with :class:`connectors.national_dvc.connector.NationalDvcConnector`; README.md in this
folder gives the wire format, the error classification, the mapping table, the simulator and the settings.
"""

"""Population database (Cơ sở dữ liệu quốc gia về dân cư, CSDLQG; VNeID) connector.

The national population database answers look-ups and verifications of citizens by their 12-digit
personal ID, over SOAP 1.1 through the provincial platform. The hub offers them as synchronous
look-ups (``manifest.py``, ``lookups.py``: ``POST /v1/citizens/*``); ``client.py`` is the zeep client,
``answers.py`` maps its citizen record to the canonical one, ``simulator.py`` plays the database.
README.md in this folder gives the operations, WS-Security and the settings.
"""

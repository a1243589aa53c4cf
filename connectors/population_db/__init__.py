"""Population database (Cơ sở dữ liệu quốc gia về dân cư, CSDLQG; VNeID) connector.

The national population database answers look-ups and verifications of citizens by their 12-digit
personal ID, over SOAP 1.1 through the provincial platform. Only the contract exists so far: see
``interface.py`` and README.md in this folder; the client, mapping and simulator come with issue #6.
"""

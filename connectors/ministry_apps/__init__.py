"""Ministry software (phần mềm chuyên ngành) connector: civil status, residence, land and the like.

Ministries run their own case-handling systems; dossiers of their procedures, and the steps and
results around them, are mirrored to those systems. One generic REST/JSON connector serves them all,
configured per ministry. Only the contract exists so far: see ``interface.py`` and README.md.
"""

"""Signed results: the PAdES signatures of a result's PDF documents, checked before the national
portal is told of the result (issue 17, seed 004 Đ10). README.md in this folder says what is checked,
the settings and what operators see; :mod:`.verify` checks one PDF, :mod:`.trust` reads the trusted
authorities, :mod:`.screen` applies the province's policy to a ``result.issued`` and records each check.
"""

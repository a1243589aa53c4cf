"""Citizen look-ups in the population database: the officer registry, rights tiers and the answers.

The edge endpoints are in ``hub/edge/citizens.py`` (look-ups) and ``hub/edge/officers.py`` (admin).
"""

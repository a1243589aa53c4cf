"""Postal operator (VNPost, the public-administration postal service "BCCI") connector.

VNPost collects dossiers from citizens' homes and delivers paper results back to them; the hub
books those orders and reads their tracking events. Only the contract exists so far: see
``interface.py`` and README.md in this folder.
"""

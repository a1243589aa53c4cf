"""The standalone offline verifier of lienthong audit bundles (``audit/verify_bundle.py``): no hub code, see README.md."""

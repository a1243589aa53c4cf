"""lienthong: the provincial integration hub (LGSP)."""

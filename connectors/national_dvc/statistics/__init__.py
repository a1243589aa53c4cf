"""Processing statistics on a working-day calendar, shared with the national portal (seed 000 Đ14, Đ16;
seed 004 Đ9.1, Đ14.4, Đ17): ``calendar.py`` (working days, office hours, the rule on online dossiers),
``monthly.py`` (a dossier's times and verdict, the month's figures), ``send.py`` (``DongBoThongKeHoSo``
monthly and on demand), ``api.py`` (JSON and CSV), ``simulator.py`` (the portal simulator's part)."""

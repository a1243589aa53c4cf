"""Citizens' ratings of how their dossiers were handled: one per dossier code, kept by the portal
connector, sent to the national portal as monthly aggregates per procedure and unit (``DongBoDanhGia``).
See README.md."""

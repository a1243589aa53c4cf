"""Detection and alerts, beside the audit trail: ``rules`` (read the access records, return findings),
``store`` (findings kept as alerts: raise, list, acknowledge, the open-alerts gauge) and ``detector``
(the worker thread running a pass every ``LIENTHONG_ALERT_INTERVAL`` s). May import ``hub.audit``;
``hub.audit`` never imports this package. Rules and runbook: docs/AUDIT.md, *Detection and alerts*."""

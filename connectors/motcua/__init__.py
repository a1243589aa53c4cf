"""The province's one-stop system (Hệ thống thông tin một cửa điện tử, "motcua") as a destination.

The one-stop system sends the hub most messages; a few come back to it from other partners (today:
``payment.confirmed`` from the national payment platform). :class:`connectors.motcua.connector.MotcuaConnector`
posts them, as canonical JSON, to the system's own endpoint (``LIENTHONG_MOTCUA_CALLBACK_URL``);
``simulator.py`` plays that endpoint for the sandbox and the tests. README.md in this folder.
"""

"""``tiemchung``: a vaccination registry (hệ thống quản lý tiêm chủng) as a partner of the hub.

It exists only in the test tree, to prove that adding a partner is adding one folder: this folder
holds its manifest, settings, connector, inbound route, scheduled pull and simulator, and nothing
outside it names the partner. ``connectors/README.md`` walks through it as the example.
"""

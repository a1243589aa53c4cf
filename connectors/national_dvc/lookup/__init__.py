"""The dossier status look-up (issue 17; seed 001 Đ18, seed 002 Đ8, seed 004 Đ15): the portal's
``TraCuuHoSo``, partners' ``GET /v1/dossiers/{code}/status``, the public JSON, page and QR code,
all answered from what the hub holds. See README.md."""

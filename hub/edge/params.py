"""Parameter types shared by the routes: ids and page cursors bounded to what the database stores.

An unbounded ``int`` would let ``?after=99999999999999999999`` reach the driver, which fails with
an overflow (a 500); these answer 422 naming the parameter instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1  # BIGINT / SQLite INTEGER

RowId = Annotated[int, Path(ge=0, le=MAX_ID, description="a row id")]
After = Annotated[int, Query(ge=0, le=MAX_ID, description="page after this id (next_after of the last page)")]
OptionalId = Annotated[int | None, Query(ge=0, le=MAX_ID)]
OptionalStatus = Annotated[int | None, Query(ge=100, le=599)]

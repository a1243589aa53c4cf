"""The baseline: a bare FastAPI endpoint that reads the body and answers 202, nothing else."""

from fastapi import FastAPI, Request
from starlette.responses import Response

app = FastAPI()


@app.post("/v1/messages")
async def bare(request: Request) -> Response:
    await request.body()
    return Response(b'{"accepted":true}', status_code=202, media_type="application/json")

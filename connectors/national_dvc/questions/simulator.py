"""The portal simulator's Q&A part: a list of citizens' questions that grows, the two list services,
and ``DongBoKetQuaHoiDapGuiTuDVCQG`` validated (jsonschema) and stored; an answer to an unknown
HOIDAPID is refused with ``"04"`` (not found), the whole call unapplied.

Controls: ``POST /_sim/questions`` ``{NOIDUNG, HOVATEN?, THUDIENTU?, MADONVI?, TENDONVI?, MALINHVUC?,
MATTHCDP?, list?: "dvcqg"|"bocoquan"}`` adds a question and answers it with its ``HOIDAPID``;
``GET /_sim/questions/{HOIDAPID}`` shows one with its answer. State (``GET /_sim/state``, under
``questions``): ``{questions: {HOIDAPID: item}, answers: {HOIDAPID: [answer]}, calls}``."""

from __future__ import annotations

from typing import Any, Callable, Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.national_dvc.questions.wire import ANSWER_SERVICE, LIST_SERVICES, answer_schema
from connectors.national_dvc.sim_parts import Host, answer, describe

Service = Callable[[dict[str, Any]], dict[str, Any]]

AGENCY, AGENCY_NAME = "000.00.00.H49", "UBND tỉnh Quảng Ninh"
SEEDED = [
    ("Nguyễn Thị Mai", "Xin hỏi thủ tục cấp bản sao trích lục hộ tịch cần những giấy tờ gì?", "2.000477", "dvcqg"),
    ("Trần Văn Hùng", "Tôi nộp hồ sơ đăng ký khai sinh trực tuyến thì bao lâu có kết quả?", "1.001193", "dvcqg"),
    ("Lê Thu Hà", "Lệ phí đăng ký hộ kinh doanh là bao nhiêu?", "2.000575", "bocoquan"),
]


class NewQuestion(BaseModel):
    """Body of ``POST /_sim/questions``."""

    model_config = ConfigDict(extra="forbid")

    NOIDUNG: str = Field(min_length=1, max_length=10000)
    HOVATEN: str = Field("Công dân", max_length=200)
    THUDIENTU: str | None = Field(None, max_length=200)
    MADONVI: str = Field(AGENCY, max_length=50)
    TENDONVI: str = Field(AGENCY_NAME, max_length=300)
    MALINHVUC: str | None = Field(None, max_length=50)
    MATTHCDP: str | None = Field(None, max_length=60)
    list: Literal["dvcqg", "bocoquan"] = "dvcqg"


class QuestionsPart:
    name = "questions"

    def __init__(self, adapter: Host) -> None:
        raw = answer_schema()
        self.validator = Draft202012Validator(raw)
        self.services: dict[str, Service] = {LIST_SERVICES[0]: self.list_dvcqg, LIST_SERVICES[1]: self.list_bocoquan,
                                             ANSWER_SERVICE: self.answer}
        self.reset()

    def reset(self) -> None:
        self.questions: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, str] = {}
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.calls = {name: 0 for name in self.services}
        self.next_id = 1001
        for name, content, procedure, which in SEEDED:
            self.add(NewQuestion(NOIDUNG=content, HOVATEN=name, MATTHCDP=procedure, list=which))

    def add(self, new: NewQuestion) -> dict[str, Any]:
        qid = self.next_id
        self.next_id += 1
        item = {"HOIDAPID": qid, **new.model_dump(exclude={"list"}, exclude_none=True), "NOIDUNGTRALOI": "", "TRALOIID": 0,
                "TRANGTHAI": 1}
        self.questions[str(qid)] = item
        self.lists[str(qid)] = new.list
        return item

    def _list(self, which: str, service: str) -> dict[str, Any]:
        self.calls[service] += 1
        result = [q for qid, q in self.questions.items() if self.lists[qid] == which]
        return {**answer("00", f"{len(result)} câu hỏi"), "result": result}

    def list_dvcqg(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._list("dvcqg", LIST_SERVICES[0])

    def list_bocoquan(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._list("bocoquan", LIST_SERVICES[1])

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls[ANSWER_SERVICE] += 1
        error = best_match(self.validator.iter_errors(body))
        if error is not None:
            return answer("02", describe(error, body))
        for index, record in enumerate(body["data"]):
            if str(record["HOIDAPID"]) not in self.questions:
                return answer("04", f"Không tìm thấy câu hỏi HOIDAPID {record['HOIDAPID']} (data[{index}])")
        for record in body["data"]:
            qid = str(record["HOIDAPID"])
            self.answers.setdefault(qid, []).append(dict(record))
            self.questions[qid]["NOIDUNGTRALOI"] = record["NOIDUNGTRALOI"]
            self.questions[qid]["TRALOIID"] = len(self.answers[qid])
            self.questions[qid]["TRANGTHAI"] = 2
        return answer("00", f"Đã tiếp nhận {len(body['data'])} câu trả lời")

    def state(self) -> dict[str, Any]:
        return {"questions": self.questions, "answers": self.answers, "calls": self.calls}

    def routes(self, app: FastAPI) -> None:
        from connectors.sim_controls import json_response

        @app.post("/_sim/questions")
        async def add_question(request: Request) -> Response:
            raw = await request.body()
            if len(raw) > 64 * 1024:
                return json_response({"detail": "body too large"}, 413)
            try:
                new = NewQuestion.model_validate_json(raw)
            except ValidationError as exc:
                return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)
            return json_response(self.add(new), 201)

        @app.get("/_sim/questions/{qid}")
        async def question(qid: str) -> Response:
            if qid not in self.questions:
                return json_response({"detail": f"no question {qid}"}, 404)
            return json_response({"question": self.questions[qid], "answers": self.answers.get(qid, [])})


def make(adapter: Host) -> QuestionsPart:
    return QuestionsPart(adapter)

"""The portal simulator's catalogue (a :class:`connectors.national_dvc.simulator.Part`): the four
catalogue services over a generated catalogue that changes over time.

Services (session checked by the adapter; each request validated with jsonschema against
``schemas/national_dvc/<service>.json``, ``"02"`` naming the field and the rule when it fails):
``LayDanhSachTTHC`` (the published procedures), ``LayThuTuc {maTTHC}`` (``"04"`` for a code it does
not know; a withdrawn procedure answers with ``TRANGTHAI "0"``), ``LayDanhMucCoQuan``,
``LayDanhMucLinhVuc``; answers ``{error_code: "00", message, result: [...]}``.

The catalogue: :data:`DEFAULT_SIZE` procedures generated from a seed (same seed, same catalogue),
always with the five the sandbox's one-stop demo files (``connectors/motcua/demo.py``), published,
each with fees per channel. Controls under ``/_sim/catalogue/`` (publish, withdraw, fees,
components, generate, drift) change it, each citing a decision and its date; with a drift every N
seconds a scripted change happens (evaluated when the simulator is next called, on its own clock).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import Response
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.national_dvc.wire_types import HANOI
from connectors.sim_controls import json_response


class Host(Protocol):
    """What the part needs of the simulated adapter (``..simulator.Adapter``): its validators and clock."""

    validators: dict[str, Any]
    clock: Callable[[], float]


Describe = Callable[[Any, dict[str, Any]], str]  #: ``..simulator.describe``: a "02" message from a schema error


def answer(error_code: str, message: str) -> dict[str, str]:
    return {"error_code": error_code, "message": message}

DEFAULT_SIZE = 40
DEFAULT_SEED = 17
SERVICES = ("LayDanhSachTTHC", "LayThuTuc", "LayDanhMucCoQuan", "LayDanhMucLinhVuc")

#: The sandbox's demo procedures (connectors/motcua/demo.py): code, name, field, lệ phí in person (đồng).
DEMO = (
    ("1.001193", "Đăng ký khai sinh", "HT", 0),
    ("1.000656", "Đăng ký khai tử", "HT", 0),
    ("1.004227", "Đăng ký đất đai, cấp giấy chứng nhận quyền sử dụng đất lần đầu", "DD", 100_000),
    ("2.000575", "Đăng ký thành lập hộ kinh doanh", "KD", 100_000),
    ("2.000477", "Cấp bản sao trích lục hộ tịch", "HT", 8_000),
)
DEMO_CODES = frozenset(code for code, *_ in DEMO)
FIELDS = (
    ("HT", "Hộ tịch", "TP"), ("DD", "Đất đai", "TNMT"), ("KD", "Thành lập và hoạt động của hộ kinh doanh", "KHDT"),
    ("CT", "Chứng thực", "TP"), ("XD", "Hoạt động xây dựng", "XD"), ("GD", "Giáo dục và Đào tạo", "GDDT"),
    ("YT", "Khám bệnh, chữa bệnh", "YT"), ("GT", "Đường bộ", "GTVT"), ("LD", "Việc làm", "LDTBXH"),
    ("MT", "Môi trường", "TNMT"),
)
AGENCIES = (
    ("000.00.00.H49", "Ủy ban nhân dân tỉnh Quảng Ninh", "1"), ("000.00.01.H49", "Sở Tư pháp tỉnh Quảng Ninh", "2"),
    ("000.00.02.H49", "Sở Tài nguyên và Môi trường tỉnh Quảng Ninh", "2"),
    ("000.00.03.H49", "Sở Kế hoạch và Đầu tư tỉnh Quảng Ninh", "2"), ("000.00.04.H49", "Sở Xây dựng tỉnh Quảng Ninh", "2"),
    ("000.00.05.H49", "Sở Y tế tỉnh Quảng Ninh", "2"), ("000.01.00.H49", "Ủy ban nhân dân thành phố Hạ Long", "3"),
    ("000.02.00.H49", "Ủy ban nhân dân thành phố Cẩm Phả", "3"),
)
ACTIONS = ("Cấp", "Cấp lại", "Điều chỉnh", "Gia hạn", "Thu hồi", "Đăng ký", "Xác nhận", "Thẩm định")
OBJECTS = ("giấy phép", "chứng chỉ hành nghề", "giấy chứng nhận", "văn bản chấp thuận", "giấy xác nhận", "quyết định")


def wire_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def fee_list(code: str, amount: int, name: str = "Lệ phí") -> list[dict[str, Any]]:
    return [{"MAPHILEPHI": f"LP-{code}", "SOTIEN": amount, "DONVI": "Đồng", "MOTA": name}] if amount else []


def make_procedure(code: str, name: str, field: tuple[str, str, str], agency: tuple[str, str, str], fee: int,
                   rng: random.Random, decided: date) -> dict[str, Any]:
    """A procedure as ``LayThuTuc`` answers it: channels in person, online (half the fee) and, for
    some, by post; one to four papers; the decision that published it."""
    days = rng.choice((3, 5, 7, 10, 15, 20))
    ways = [("1", fee), ("2", fee // 2)] + ([("3", fee)] if rng.random() < 0.4 else [])
    papers = [{"MAGIAYTO": f"{code}-GT{i}", "TENGIAYTO": title, "TENMAUDON": f"Mẫu {i:02d}" if i == 1 else None,
               "URL": f"https://csdl.dichvucong.gov.vn/mau/{code}-{i}.docx" if i == 1 else None}
              for i, title in enumerate(rng.sample(("Tờ khai theo mẫu", "Bản sao giấy tờ tùy thân", "Giấy ủy quyền",
                                                    "Bản vẽ, sơ đồ", "Giấy tờ chứng minh"), rng.randint(1, 4)), 1)]
    return {
        "MATTHC": code, "TENTTHC": name, "MACOQUANCONGBO": agency[0], "TRANGTHAI": "1",
        "LINHVUCTHUCHIEN": [{"MALINHVUC": field[0], "TENLINHVUC": field[1]}],
        "CACHTHUCTHUCHIEN": [{"KENH": kenh, "THOIGIAN": [{"THOIGIANGIAIQUYET": str(days), "DONVITINH": "Ngày làm việc",
                                                         "MOTA": "Kể từ ngày nhận đủ hồ sơ hợp lệ",
                                                         "PHILEPHI": fee_list(code, amount)}]}
                             for kenh, amount in ways],
        "THANHPHANHOSO": [{"GIAYTO": [{k: v for k, v in p.items() if v is not None} for p in papers]}],
        "COQUANTHUCHIEN": [{"MADONVI": agency[0], "TENDONVI": agency[1]}],
        "KETQUATHUCHIEN": [{"TENKETQUA": name}],
        "CANCUPHAPLY": [{"SOVANBAN": f"{rng.randint(100, 3999)}/QĐ-UBND", "TENVANBAN": "Quyết định công bố danh mục "
                         "thủ tục hành chính", "NGAYBANHANH": wire_date(decided)}],
        "DOITUONGTHUCHIEN": "Công dân Việt Nam",
    }


def generate(size: int, seed: int) -> dict[str, dict[str, Any]]:
    """``size`` procedures (at least the five demo ones), the same for the same seed."""
    rng = random.Random(seed)
    fields = {f[0]: f for f in FIELDS}
    catalogue: dict[str, dict[str, Any]] = {}
    for code, name, field, fee in DEMO:
        catalogue[code] = make_procedure(code, name, fields[field], AGENCIES[1], fee, rng, date(2025, 6, 1))
    for i in range(max(0, size - len(DEMO))):
        code = f"{1 + i % 2}.{100000 + i:06d}"
        name = f"{rng.choice(ACTIONS)} {rng.choice(OBJECTS)} {rng.choice(FIELDS)[1].lower()}"
        fee = rng.choice((0, 0, 20_000, 50_000, 100_000, 150_000, 500_000))
        catalogue[code] = make_procedure(code, name, rng.choice(FIELDS), rng.choice(AGENCIES), fee, rng,
                                         date(2024 + rng.randint(0, 1), rng.randint(1, 12), rng.randint(1, 28)))
    return catalogue


class Decision(BaseModel):
    """The decision a change cites and its date."""

    model_config = ConfigDict(extra="forbid")

    decision: str = Field(min_length=1, max_length=200, description="e.g. 1234/QĐ-BTP")
    decided_on: date


class PublishIn(Decision):
    code: str | None = Field(None, pattern=r"^\d\.\d{6}$", description="new or withdrawn code (default: a new one)")
    name: str | None = Field(None, min_length=1, max_length=500)
    fee: int = Field(50_000, ge=0)


class WithdrawIn(Decision):
    code: str = Field(pattern=r"^\d\.\d{6}$")


class FeeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=50)
    amount: int = Field(ge=0)
    name: str = Field("Lệ phí", min_length=1, max_length=300)


class FeesIn(Decision):
    code: str = Field(pattern=r"^\d\.\d{6}$")
    channel: int = Field(ge=1, le=3)
    fees: list[FeeIn] = Field(max_length=20)


class PaperIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=500)
    form_name: str | None = None
    url: str | None = None


class ComponentsIn(Decision):
    code: str = Field(pattern=r"^\d\.\d{6}$")
    components: list[PaperIn] = Field(min_length=1, max_length=50)


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(DEFAULT_SIZE, ge=len(DEMO), le=100_000)
    seed: int = DEFAULT_SEED


class DriftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: float = Field(ge=0, description="seconds between scripted changes; 0: none")


@dataclass
class Change:
    at: str
    kind: str
    code: str
    decision: str
    decided_on: str


class CataloguePart:
    """The catalogue part of the simulated portal (plugged in by ``simulator.PARTS``)."""

    name = "catalogue"

    def __init__(self, adapter: Host, describe: Describe) -> None:
        self.adapter, self.describe = adapter, describe
        self.size, self.seed, self.drift_every = DEFAULT_SIZE, DEFAULT_SEED, 0.0
        self.services = {s: self._handler(s) for s in SERVICES}
        self.reset()

    # -- configuration -------------------------------------------------------------------------

    def configure(self, size: int | None = None, seed: int | None = None, drift: float | None = None) -> None:
        """The command line's ``--catalogue-size``, ``--catalogue-seed``, ``--catalogue-drift``."""
        if drift is not None:
            self.drift_every, self.drift_from, self.drifted = drift, self.adapter.clock(), 0
        if size is not None or seed is not None:
            self.size = self.size if size is None else size
            self.seed = self.seed if seed is None else seed
            self.reset()

    def reset(self) -> None:
        self.procedures = generate(self.size, self.seed)
        self.listed: set[str] = set(self.procedures)
        self.changes: deque[Change] = deque(maxlen=50)
        self.rng = random.Random(self.seed + 1)
        self.drift_from = self.adapter.clock()
        self.drifted = 0
        self.next_code = 900000
        self.calls: dict[str, int] = {s: 0 for s in SERVICES}
        self.changed = 0

    # -- the partner's services ----------------------------------------------------------------

    def _handler(self, service: str) -> Any:
        def handle(body: dict[str, Any]) -> dict[str, Any]:
            self.calls[service] += 1
            error = best_match(self.adapter.validators[service].iter_errors(body))
            if error is not None:
                return answer("02", self.describe(error, body))
            self.drift()
            if service == "LayDanhSachTTHC":
                result: list[Any] = [{"MATTHC": c, "TENTTHC": self.procedures[c]["TENTTHC"]} for c in sorted(self.listed)]
            elif service == "LayThuTuc":
                code = body["maTTHC"][:8]
                if code not in self.procedures:
                    return answer("04", f"Không tìm thấy thủ tục {code}")
                result = [self.procedures[code]]
            elif service == "LayDanhMucCoQuan":
                result = [{"MADONVI": c, "TENDONVI": n, "CAPDONVI": level} for c, n, level in AGENCIES]
            else:
                result = [{"MALINHVUC": c, "TENLINHVUC": n, "MANGANH": sector} for c, n, sector in FIELDS]
            return {**answer("00", f"{len(result)} bản ghi"), "result": result}

        return handle

    # -- changes -------------------------------------------------------------------------------

    def _cite(self, procedure: dict[str, Any], d: Decision, title: str) -> None:
        procedure["CANCUPHAPLY"] = [*procedure["CANCUPHAPLY"], {"SOVANBAN": d.decision, "TENVANBAN": title,
                                                                "NGAYBANHANH": wire_date(d.decided_on)}]

    def _record(self, kind: str, code: str, d: Decision) -> dict[str, Any]:
        self.changed += 1
        change = Change(datetime.now(HANOI).isoformat(timespec="seconds"), kind, code, d.decision, d.decided_on.isoformat())
        self.changes.append(change)
        return {"changed": kind, "code": code, "procedure": self.procedures[code]}

    def publish(self, p: PublishIn) -> dict[str, Any]:
        code = p.code
        if code is None:
            while f"1.{self.next_code:06d}" in self.procedures:
                self.next_code += 1
            code = f"1.{self.next_code:06d}"
        if code not in self.procedures:
            self.procedures[code] = make_procedure(code, p.name or f"Thủ tục mới {code}", self.rng.choice(FIELDS),
                                                   self.rng.choice(AGENCIES), p.fee, self.rng, p.decided_on)
            self.procedures[code]["CANCUPHAPLY"] = []
        procedure = self.procedures[code]
        procedure["TRANGTHAI"] = "1"
        if p.name:
            procedure["TENTTHC"] = p.name
        self._cite(procedure, p, "Quyết định công bố thủ tục hành chính")
        self.listed.add(code)
        return self._record("published", code, p)

    def withdraw(self, w: WithdrawIn) -> dict[str, Any]:
        procedure = self.procedures[w.code]
        procedure["TRANGTHAI"] = "0"
        self._cite(procedure, w, "Quyết định bãi bỏ thủ tục hành chính")
        self.listed.discard(w.code)
        return self._record("withdrawn", w.code, w)

    def set_fees(self, f: FeesIn) -> dict[str, Any]:
        procedure = self.procedures[f.code]
        way = next((w for w in procedure["CACHTHUCTHUCHIEN"] if w["KENH"] == str(f.channel)), None)
        if way is None:
            way = {"KENH": str(f.channel), "THOIGIAN": [{"THOIGIANGIAIQUYET": "5", "DONVITINH": "Ngày làm việc"}]}
            procedure["CACHTHUCTHUCHIEN"].append(way)
        way["THOIGIAN"][0]["PHILEPHI"] = [{"MAPHILEPHI": x.code, "SOTIEN": x.amount, "DONVI": "Đồng", "MOTA": x.name}
                                          for x in f.fees]
        self._cite(procedure, f, "Quyết định công bố thủ tục hành chính được sửa đổi (phí, lệ phí)")
        return self._record("fees", f.code, f)

    def set_components(self, c: ComponentsIn) -> dict[str, Any]:
        procedure = self.procedures[c.code]
        procedure["THANHPHANHOSO"] = [{"GIAYTO": [{k: v for k, v in {"MAGIAYTO": p.code, "TENGIAYTO": p.name,
                                                                       "TENMAUDON": p.form_name, "URL": p.url}.items()
                                                   if v is not None} for p in c.components]}]
        self._cite(procedure, c, "Quyết định công bố thủ tục hành chính được sửa đổi (thành phần hồ sơ)")
        return self._record("components", c.code, c)

    def drift(self) -> None:
        """Apply the scripted changes due since the drift started: fees, components, a new procedure, a withdrawal."""
        if self.drift_every <= 0:
            return
        due = int((self.adapter.clock() - self.drift_from) // self.drift_every)
        while self.drifted < due:
            self.drifted += 1
            step = self.drifted % 4
            today = datetime.now(HANOI).date()
            d = Decision(decision=f"{self.drifted}/QĐ-MP", decided_on=today)
            listed = sorted(self.listed - DEMO_CODES)
            if step == 1 and listed:
                code = self.rng.choice(listed)
                amount = self.rng.choice((10_000, 25_000, 40_000, 60_000))
                self.set_fees(FeesIn(code=code, channel=2, fees=[FeeIn(code=f"LP-{code}", amount=amount)], **d.model_dump()))
            elif step == 2 and listed:
                code = self.rng.choice(listed)
                self.set_components(ComponentsIn(code=code, components=[
                    PaperIn(code=f"{code}-GT{self.drifted}", name="Tờ khai theo mẫu mới")], **d.model_dump()))
            elif step == 3:
                self.publish(PublishIn(**d.model_dump()))
            elif listed:
                self.withdraw(WithdrawIn(code=self.rng.choice(listed), **d.model_dump()))

    # -- inspection and controls ---------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"size": len(self.procedures), "listed": len(self.listed), "drift_every": self.drift_every,
                "counters": {"calls": self.calls, "changes": self.changed}, "changes": [c.__dict__ for c in self.changes]}

    def routes(self, app: FastAPI) -> None:
        part = self

        async def parsed(request: Request, model: type[BaseModel]) -> Any:
            try:
                return model.model_validate_json(await request.body())
            except ValidationError as exc:
                return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)

        def control(path: str, model: type[BaseModel], action: Any, needs_code: bool = True) -> None:
            async def endpoint(request: Request) -> Response:
                body = await parsed(request, model)
                if isinstance(body, Response):
                    return body
                if needs_code and body.code not in part.procedures:
                    return json_response({"detail": f"no procedure {body.code}"}, 404)
                return json_response(action(body))

            app.add_api_route(f"/_sim/catalogue/{path}", endpoint, methods=["POST"])

        control("publish", PublishIn, part.publish, needs_code=False)
        control("withdraw", WithdrawIn, part.withdraw)
        control("fees", FeesIn, part.set_fees)
        control("components", ComponentsIn, part.set_components)
        def regenerate(g: GenerateIn) -> dict[str, Any]:
            part.configure(size=g.size, seed=g.seed)
            return part.state()

        def drift(d: DriftIn) -> dict[str, Any]:
            part.configure(drift=d.every)
            return part.state()

        control("generate", GenerateIn, regenerate, needs_code=False)
        control("drift", DriftIn, drift, needs_code=False)

        @app.get("/_sim/catalogue/procedures/{code}")
        async def one(code: str) -> Response:
            found = part.procedures.get(code)
            return json_response(found) if found else json_response({"detail": f"no procedure {code}"}, 404)

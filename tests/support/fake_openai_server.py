"""A local OpenAI-compatible HTTP server for tests, driven by the real ``openai`` SDK.

Stdlib ``http.server`` in a thread on 127.0.0.1 (free port).  It implements what the
fine-tuning backend and an evaluator use: files (multipart create, retrieve, list,
delete), fine-tuning jobs (create, retrieve, list with ``metadata[k]=v``/``after``/
``limit``, events, cancel, pause, resume) and ``/v1/chat/completions``.

Scriptable behaviour:

- job progression: each ``GET /fine_tuning/jobs/{id}`` advances the job one status along
  its plan (default ``validating_files -> queued -> running -> succeeded``); plan the
  next job with :meth:`FakeOpenAIServer.plan_next_job` (``paused`` steps, a failure
  with code and message);
- faults: :meth:`FakeOpenAIServer.fail_next` answers the next N calls of a route with
  a status (``after_action=True`` performs the action first: "created, response lost");
- :meth:`FakeOpenAIServer.hang_next` performs the action and then holds the response
  until released (a client killed mid-request);
- ``requests`` logs every call (route, query, JSON body; never the Authorization header).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_PLAN = ("validating_files", "queued", "running", "succeeded")
Ids = list[str]
Query = dict[str, str]
Reply = tuple[int, Any]  # (HTTP status, JSON payload)


@dataclass
class Fault:
    status: int
    after_action: bool = False
    code: str | None = None
    message: str = "injected failure"
    retry_after_ms: int | None = 10


@dataclass
class JobPlan:
    statuses: tuple[str, ...] = DEFAULT_PLAN
    error: dict[str, Any] | None = None


@dataclass
class Recorded:
    method: str
    route: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, no Authorization


@dataclass
class _State:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class FakeOpenAIServer:
    """The server; use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(
        self,
        api_key: str | None = "sk-fake-test-key",
        chat_reply: Any = "Hello from the fake server.",
    ) -> None:
        self.api_key = api_key
        self.chat_reply = chat_reply  # a string, or callable(model, messages) -> str
        # how jobs.list treats metadata[k]=v: "supported", "rejected" (400) or "ignored"
        self.metadata_filter = "supported"
        self.requests: list[Recorded] = []
        self.state = _State()
        self._plans: deque[JobPlan] = deque()
        self._faults: dict[str, deque[Fault]] = {}
        self._hangs: dict[str, deque[threading.Event]] = {}
        self.hung = threading.Event()  # set when a hung request has done its action
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        for q in self._hangs.values():
            for ev in q:
                ev.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- scripting ----------------------------------------------------------------------
    def plan_next_job(
        self,
        statuses: tuple[str, ...] | list[str] = DEFAULT_PLAN,
        error: dict[str, Any] | None = None,
    ) -> None:
        """The next created job walks ``statuses`` (one per retrieve); ``error`` if it fails."""
        self._plans.append(JobPlan(tuple(statuses), error))

    def fail_next(
        self,
        route: str,
        status: int,
        times: int = 1,
        after_action: bool = False,
        code: str | None = None,
        message: str = "injected failure",
        retry_after_ms: int | None = 10,
    ) -> None:
        """Answer the next ``times`` calls of ``route`` (e.g. ``"jobs.create"``) with ``status``."""
        q = self._faults.setdefault(route, deque())
        for _ in range(times):
            q.append(Fault(status, after_action, code, message, retry_after_ms))

    def hang_next(self, route: str) -> threading.Event:
        """Do the next ``route`` call's action, then hold its response until the event is set."""
        ev = threading.Event()
        self._hangs.setdefault(route, deque()).append(ev)
        return ev

    def calls(self, route: str) -> list[Recorded]:
        """Logged requests of ``route``."""
        return [r for r in self.requests if r.route == route]

    def set_job_status(self, job_id: str, status: str) -> None:
        """Force a job's status (and stop its plan)."""
        with self._lock:
            self.state.jobs[job_id]["status"] = status
            self.state.plans[job_id] = []

    # -- job model ----------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}{int(time.time() * 1e6) % 10**8:08d}"

    def _event(
        self,
        job_id: str,
        message: str,
        level: str = "info",
        data: Any = None,
        type_: str = "message",
    ) -> None:
        self.state.events[job_id].append(
            {
                "id": self._new_id("ftevent"),
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "data": data,
                "type": type_,
            }
        )

    def _trained_tokens(self, job: dict[str, Any]) -> int:
        data = self.state.file_bytes.get(job["training_file"], b"")
        epochs = job["hyperparameters"].get("n_epochs")
        return (len(data) // 4) * (epochs if isinstance(epochs, int) else 3)

    def _advance(self, job_id: str) -> None:
        job, plan = self.state.jobs[job_id], self.state.plans[job_id]
        if not plan or job["status"] in ("cancelled",) or job.get("_held"):
            return
        status = plan.pop(0)
        if status == job["status"]:
            return
        job["status"] = status
        if status == "running":
            self._event(job_id, "Fine-tuning job started")
            self._event(
                job_id,
                "Step 1/10: training loss=1.23",
                data={"step": 1, "total_steps": 10, "train_loss": 1.23},
                type_="metrics",
            )
        elif status == "paused":
            self._event(job_id, "Fine-tuning job paused")
        elif status == "succeeded":
            suffix = job.get("user_provided_suffix") or ""
            job.update(
                fine_tuned_model=f"ft:{job['model']}:motools-fake:{suffix}:{job_id[-8:]}",
                finished_at=int(time.time()),
                trained_tokens=self._trained_tokens(job),
                result_files=[self._new_id("file")],
            )
            self._event(job_id, "The job has successfully completed")
        elif status == "failed":
            job["error"] = self.state.errors.get(job_id) or {
                "code": "server_error",
                "message": "training failed",
                "param": None,
            }
            job["finished_at"] = int(time.time())
            self._event(job_id, f"Fine-tuning job failed: {job['error']['message']}", level="error")
        else:
            self._event(job_id, f"Job status: {status}")

    def handle(
        self, route: str, ids: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        """Serve ``route`` (e.g. ``"jobs.create"``); ``ids`` are the path's object ids."""
        with self._lock:
            fn = getattr(self, "_" + route.replace(".", "_"), None)
            if fn is None:
                return 404, _err(f"unknown route {route}", "invalid_request_error", None)
            result: tuple[int, Any] = fn(ids, query, body)
            return result

    def _files_create(self, ids: Ids, query: Query, body: Any) -> Reply:
        if body.get("purpose") != "fine-tune" or "file" not in body:
            return 400, _err(
                "expected a 'file' and purpose 'fine-tune'", "invalid_request_error", "invalid_file"
            )
        fid, data = self._new_id("file"), body["file"]
        self.state.file_bytes[fid] = data
        self.state.files[fid] = {
            "id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
            "filename": body.get("filename", "upload.jsonl"), "purpose": "fine-tune", "status": "processed",
        }  # fmt: skip
        return 200, self.state.files[fid]

    def _files_list(self, ids: Ids, query: Query, body: Any) -> Reply:
        return 200, _page(list(self.state.files.values()), query)

    def _files_retrieve(self, ids: Ids, query: Query, body: Any) -> Reply:
        f = self.state.files.get(ids[0])
        return (
            (200, f)
            if f
            else (404, _err(f"No such File object: {ids[0]}", "invalid_request_error", None))
        )

    def _files_delete(self, ids: Ids, query: Query, body: Any) -> Reply:
        if self.state.files.pop(ids[0], None) is None:
            return 404, _err(f"No such File object: {ids[0]}", "invalid_request_error", None)
        return 200, {"id": ids[0], "object": "file", "deleted": True}

    def _jobs_create(self, ids: Ids, query: Query, body: Any) -> Reply:
        st = self.state
        if body.get("training_file") not in st.files:
            msg = f"invalid training_file: {body.get('training_file')}"
            return 400, _err(msg, "invalid_request_error", "invalid_training_file")
        if not body.get("model"):
            return 400, _err(
                "model is required", "invalid_request_error", "missing_required_parameter"
            )
        jid = self._new_id("ftjob")
        plan = self._plans.popleft() if self._plans else JobPlan()
        hp = body.get("hyperparameters") or (
            (body.get("method") or {}).get("supervised") or {}
        ).get("hyperparameters")
        st.jobs[jid] = {
            "id": jid, "object": "fine_tuning.job", "created_at": int(time.time()), "error": None,
            "fine_tuned_model": None, "finished_at": None, "hyperparameters": dict(hp or {}),
            "model": body["model"], "organization_id": "org-fake", "result_files": [],
            "seed": body.get("seed") or 42, "status": plan.statuses[0], "trained_tokens": None,
            "training_file": body["training_file"], "validation_file": None,
            "metadata": body.get("metadata"), "user_provided_suffix": body.get("suffix"),
            "estimated_finish": None, "integrations": [], "method": body.get("method"), "_seq": len(st.jobs),
        }  # fmt: skip
        st.plans[jid], st.errors[jid], st.events[jid] = list(plan.statuses[1:]), plan.error, []
        self._event(jid, "Created fine-tuning job")
        return 200, _public(st.jobs[jid])

    def _jobs_list(self, ids: Ids, query: Query, body: Any) -> Reply:
        jobs = sorted(self.state.jobs.values(), key=lambda j: j["_seq"], reverse=True)
        filters = {
            k[9:-1]: v for k, v in query.items() if k.startswith("metadata[") and k.endswith("]")
        }
        if filters and self.metadata_filter == "rejected":
            return 400, _err(
                "Unrecognized request argument supplied: metadata", "invalid_request_error", None
            )
        if self.metadata_filter == "supported":
            jobs = [
                j
                for j in jobs
                if all((j.get("metadata") or {}).get(k) == v for k, v in filters.items())
            ]
        return 200, _page(jobs, query)

    def _job(self, ids: list[str]) -> dict[str, Any] | None:
        return self.state.jobs.get(ids[0])

    def _jobs_retrieve(self, ids: Ids, query: Query, body: Any) -> Reply:
        if (job := self._job(ids)) is None:
            return _no_job(ids)
        self._advance(job["id"])
        return 200, _public(job)

    def _jobs_events(self, ids: Ids, query: Query, body: Any) -> Reply:
        if (job := self._job(ids)) is None:
            return _no_job(ids)
        return 200, _page(list(reversed(self.state.events[job["id"]])), query)

    def _jobs_cancel(self, ids: Ids, query: Query, body: Any) -> Reply:
        if (job := self._job(ids)) is None:
            return _no_job(ids)
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return 400, _err(
                f"Job {job['id']} has already completed", "invalid_request_error", "invalid_state"
            )
        job["status"] = "cancelled"
        self._event(job["id"], "Fine-tuning job cancelled")
        return 200, _public(job)

    def _jobs_pause(self, ids: Ids, query: Query, body: Any) -> Reply:
        if (job := self._job(ids)) is None:
            return _no_job(ids)
        job["status"], job["_held"] = "paused", True
        self._event(job["id"], "Fine-tuning job paused")
        return 200, _public(job)

    def _jobs_resume(self, ids: Ids, query: Query, body: Any) -> Reply:
        if (job := self._job(ids)) is None:
            return _no_job(ids)
        job["status"], job["_held"] = "running", False
        self._event(job["id"], "Fine-tuning job resumed")
        return 200, _public(job)

    def _models_retrieve(self, ids: Ids, query: Query, body: Any) -> Reply:
        return 200, {"id": ids[0], "object": "model", "created": 0, "owned_by": "motools-fake"}

    def _chat_completions(self, ids: Ids, query: Query, body: Any) -> Reply:
        return 200, self._chat(body)

    def _chat(self, body: Any) -> dict[str, Any]:
        messages = body.get("messages") or []
        reply = (
            self.chat_reply(body.get("model"), messages)
            if callable(self.chat_reply)
            else str(self.chat_reply)
        )
        prompt = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
        done = max(1, len(reply) // 4)
        return {
            "id": self._new_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": done,
                "total_tokens": prompt + done,
            },
        }


def _no_job(ids: list[str]) -> tuple[int, Any]:
    return 404, _err(
        f"Could not find fine-tuning job {ids[0]}", "invalid_request_error", "fine_tune_not_found"
    )


def _err(message: str, type_: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """A cursor page: ``after`` is the id of the last item of the previous page."""
    if "after" in query:
        ids = [i["id"] for i in items]
        items = items[ids.index(query["after"]) + 1 :] if query["after"] in ids else []
    limit = int(query.get("limit", 20))
    return {
        "object": "list",
        "data": [_public(i) for i in items[:limit]],
        "has_more": len(items) > limit,
    }


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    out: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            out[str(name)], out["filename"] = payload, part.get_filename()
        else:
            out[str(name)] = payload.decode()
    return out


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle delay: otherwise every call costs ~40 ms on loopback.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        body: Any = {}
        if ctype.startswith("multipart/form-data"):
            body = _parse_multipart(ctype, raw)
        elif raw:
            body = json.loads(raw)
        logged_body = (
            {k: (f"<{len(v)} bytes>" if isinstance(v, bytes) else v) for k, v in body.items()}
            if isinstance(body, dict)
            else body
        )
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        rec = Recorded(method, "?", url.path, query, logged_body, headers=headers)
        fake.requests.append(rec)
        provided = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if fake.api_key is not None and provided != fake.api_key:
            # Like the real API, quote the key that was sent: clients must scrub it.
            rec.route, rec.status = "auth", 401
            return self._send(
                401,
                _err(
                    f"Incorrect API key provided: {provided}.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
        route, ids = _route_of(method, url.path)
        rec.route = route
        fault = None
        with fake._lock:
            q = fake._faults.get(route)
            if q:
                fault = q.popleft()
            hang = fake._hangs[route].popleft() if fake._hangs.get(route) else None
        if fault is not None and not fault.after_action:
            rec.status = fault.status
            return self._send(
                fault.status, _err(fault.message, "server_error", fault.code), fault.retry_after_ms
            )
        status, payload = fake.handle(route, ids, query, body)
        if hang is not None:
            fake.hung.set()
            hang.wait(30)
            self.close_connection = True
            return
        if fault is not None:
            rec.status = fault.status
            return self._send(
                fault.status, _err(fault.message, "server_error", fault.code), fault.retry_after_ms
            )
        rec.status = status
        self._send(status, payload)

    def _send(self, status: int, payload: Any, retry_after_ms: int | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{time.time_ns()}")
        if retry_after_ms is not None:
            self.send_header("retry-after-ms", str(retry_after_ms))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


def _route_of(method: str, path: str) -> tuple[str, list[str]]:
    """``("jobs.cancel", ["ftjob-1"])`` for ``POST /v1/fine_tuning/jobs/ftjob-1/cancel``."""
    parts = [p for p in path.split("/") if p][1:]  # drop "v1"
    if parts[:1] == ["files"]:
        action = (
            {"POST": "create", "GET": "list"}[method]
            if len(parts) == 1
            else {"DELETE": "delete"}.get(method, "retrieve")
        )
        return "files." + action, parts[1:]
    if parts[:2] == ["fine_tuning", "jobs"]:
        if len(parts) == 2:
            return ("jobs.create" if method == "POST" else "jobs.list"), []
        return "jobs." + (parts[3] if len(parts) > 3 else "retrieve"), parts[2:3]
    if parts[:1] == ["models"]:
        return "models.retrieve", parts[1:2]
    return ".".join(parts), []

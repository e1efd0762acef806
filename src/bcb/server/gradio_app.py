"""The official evaluator's Gradio ``/predict`` API, served by the real ``gradio`` library
(``pip install 'bcb[serve]'``), with the JSON API on the same port.

``bigcodebench.evaluate --execution gradio --gradio_endpoint URL`` and ``gradio_client`` call
``/predict`` with the Hugging Face Space's thirteen parameters by name and expect
``(results, pass_at_k)``: the ``*_eval_results.json`` content and the pass@k dict with
``gt_pass_rate`` and ``failed_tasks``. The call becomes a job like any other (queued fairly,
stored, answered from the store when repeated) and holds its connection until the job is done,
as the Space does. Numbers are plain ``Number`` inputs rather than the Space's sliders, so that a
value out of a slider's range reaches bcb's own checks and gets its one-line reason.
"""

# No `from __future__ import annotations`: Gradio and FastAPI read these annotations at run time.
import os
from pathlib import Path
from typing import Any, Optional

from bcb.server.api import PREFIX, Response, authorized, client_id, handle, read_limited
from bcb.server.options import RequestError
from bcb.server.service import EvaluationService, official_pass_at_k


def build_app(service: EvaluationService, token: Optional[str]) -> Any:
    """A FastAPI app: the JSON API under ``/api/v1`` and the Gradio interface at ``/``.

    Gradio keeps uploads in ``GRADIO_TEMP_DIR``, by default the machine-wide ``/tmp/gradio``: the
    first user whose server (or any Gradio app) made it owns it, and every other user's uploads
    then fail with a 500. So, unless the caller chose a directory, uploads go under ``--root``."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_TEMP_DIR", str(upload_dir(service)))
    import gradio as gr
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    def predict(
        split: str,
        subset: str,
        samples: Optional[str],
        pass_k: str,
        parallel: float,
        min_time_limit: float,
        max_as_limit: float,
        max_data_limit: float,
        max_stack_limit: float,
        calibrated: bool,
        check_gt_only: bool,
        no_gt: bool,
        selective_evaluate: str,
        request: gr.Request,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        options = {
            "split": split,
            "subset": subset,
            "pass_k": pass_k,
            "parallel": parallel,
            "min_time_limit": min_time_limit,
            "max_as_limit": max_as_limit,
            "max_data_limit": max_data_limit,
            "max_stack_limit": max_stack_limit,
            "calibrated": calibrated,
            "check_gt_only": check_gt_only,
            "no_gt": no_gt,
            "selective_evaluate": selective_evaluate,
        }
        try:
            data = b""
            if samples:
                path = Path(samples)
                size = path.stat().st_size
                if size > service.config.max_upload_bytes:
                    raise RequestError(
                        413,
                        f"the samples file is {size / 2**20:.1f} MiB; this server takes at most {service.config.max_upload_mb:g} MiB",
                    )
                data = path.read_bytes()
                options["filename"] = path.name
            elif check_gt_only:
                options["filename"] = "__dummy__.jsonl"  # the name the official evaluator gives a ground-truth-only run
            else:
                raise RequestError(400, "no samples file: send one with handle_file(path)")
            headers = {k.lower(): v for k, v in request.headers.items()}
            address = request.client.host if request.client else "unknown"
            status, _ = service.submit(client_id(headers, address), options, data)
            final = service.wait(status["job"])
            if final["state"] != "done":
                raise RequestError(
                    500, f"job {final['job']} {final['state']}: {final['error'] or 'the server is stopping'}"
                )
            results, pass_at_k = service.answer(final["job"])
        except RequestError as exc:
            raise gr.Error(exc.message) from None
        return results, official_pass_at_k(pass_at_k)

    interface = gr.Interface(
        fn=predict,
        inputs=[
            gr.Textbox(label="BigCodeBench Split", value="complete"),
            gr.Textbox(label="BigCodeBench Subset", value="full"),
            gr.File(label="Samples Path (.jsonl)", type="filepath"),
            gr.Textbox(label="Pass k Values (comma-separated)", value="1,5,10"),
            gr.Number(label="Parallel Workers (the server decides; accepted and ignored)", value=-1),
            gr.Number(label="Min Time Limit", value=1),
            gr.Number(label="Max AS Limit", value=30 * 1024),
            gr.Number(label="Max Data Limit", value=30 * 1024),
            gr.Number(label="Max Stack Limit", value=10),
            gr.Checkbox(label="Calibrated", value=True),
            gr.Checkbox(label="Check GT Only"),
            gr.Checkbox(label="No GT"),
            gr.Textbox(label="Selective Evaluated Task IDs (comma-separated, e.g. '0,1,2')", value=""),
        ],
        outputs=[gr.JSON(label="Results"), gr.JSON(label="Eval Results")],
        title="bcb serve",
        description="BigCodeBench evaluation (bcb): the official /predict API; the JSON API is under /api/v1.",
        flagging_mode="never",
        api_name="predict",
        # Gradio keeps each upload in its cache; bcb copies it at submit, so an hour is plenty.
        delete_cache=(3600, 3600),
    )
    interface.queue(default_concurrency_limit=None)

    app = FastAPI()

    @app.middleware("http")
    async def bearer(request: Request, call_next: Any) -> Any:
        # Every path, Gradio's included: gradio_client sends the token with headers={"Authorization": ...}.
        if not request.url.path.startswith(PREFIX + "/health") and not authorized(
            token, {k.lower(): v for k, v in request.headers.items()}
        ):
            return JSONResponse(
                {"error": "missing or wrong bearer token: send 'Authorization: Bearer <token>'"}, status_code=401
            )
        return await call_next(request)

    @app.api_route(PREFIX + "/{rest:path}", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
    async def json_api(request: Request, rest: str) -> Any:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            raw = headers.get("content-length")
            length = int(raw) if raw is not None else None
            if length is not None and length < 0:
                raise ValueError
            body = b""
            if request.method in ("POST", "PUT", "PATCH"):
                limit = service.config.max_upload_bytes
                if length is not None and length > limit:
                    read_limited(lambda n: b"", length, limit)
                chunks: list[bytes] = []
                size = 0
                async for (
                    chunk
                ) in request.stream():  # counted as it arrives: a chunked upload has no length to check first
                    size += len(chunk)
                    if size > limit:
                        read_limited(lambda n: b"", size, limit)
                    chunks.append(chunk)
                body = b"".join(chunks)
        except ValueError:
            return JSONResponse({"error": f"bad Content-Length {raw!r}"}, status_code=400)
        except RequestError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status, headers={"Connection": "close"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        address = request.client.host if request.client else "unknown"
        response: Response = await run_in_threadpool(
            handle, service, token, request.method, target, headers, lambda: body, address
        )
        return JSONResponse(response.payload, status_code=response.status)

    return gr.mount_gradio_app(
        app,
        interface,
        path="",
        max_file_size=service.config.max_upload_bytes,
        ssr_mode=False,
        show_error=True,
        footer_links=["api"],
    )


def upload_dir(service: EvaluationService) -> Path:
    """Where Gradio keeps the files clients upload, beside bcb's own uploads."""
    return service.uploads.parent / "gradio"


def serve_gradio(service: EvaluationService, host: str, port: int, token: Optional[str]) -> None:
    """Run until interrupted."""
    import uvicorn

    # A /predict call waits for its job: on shutdown, do not wait for those (they resume on restart).
    uvicorn.run(
        build_app(service, token),
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=5,
    )

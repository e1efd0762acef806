"""`bcb serve`: one evaluation server that the official client, other harnesses and scripts share."""

from __future__ import annotations

import importlib.util
import signal
import socket
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from bcb.cli.common import DataDir, DatasetFile, DatasetName, Version, check_executor_flags, err_console, user_errors
from bcb.dataset import DatasetError
from bcb.execution import LAYER_NAMES, ExecutorError, SandboxOptions
from bcb.server.api import TOKEN_ENV
from bcb.server.service import EvaluationService, ServeConfig


def serve_command(
    host: Annotated[
        str,
        typer.Option(help="Address to listen on (default: this machine only; put TLS in a reverse proxy in front)."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port (7860: the Gradio default the official client's examples use).")
    ] = 7860,
    python: Annotated[
        Optional[str], typer.Option(help="The task environment's interpreter (default: this one).")
    ] = None,
    parallel: Annotated[
        int, typer.Option(help="Warm worker processes shared by all jobs (default: the number of CPUs).")
    ] = 0,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", help="Jobs evaluated at once; their samples take turns on the workers, client by client."
        ),
    ] = 4,
    root: Annotated[Path, typer.Option(help="Where the result store (verdicts and jobs) and the uploads live.")] = Path(
        "bcb_results"
    ),
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    data_dir: DataDir = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="local (this machine's workers) or ray (a Ray cluster: pip install 'bcb\\[ray]'; --parallel is then workers per node).",
        ),
    ] = "local",
    ray_address: Annotated[
        Optional[str],
        typer.Option(
            "--ray-address", help="The Ray cluster, host:port (default: RAY_ADDRESS, else a private single-node Ray)."
        ),
    ] = None,
    allow_mixed_env: Annotated[
        bool,
        typer.Option("--allow-mixed-env", help="Use Ray nodes whose environment differs from this one's (recorded)."),
    ] = False,
    token: Annotated[
        Optional[str],
        typer.Option(
            "--token",
            envvar=TOKEN_ENV,
            help=f"Require 'Authorization: Bearer TOKEN' on every request (also from ${TOKEN_ENV}).",
        ),
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", help="Largest samples file accepted (413 above).")
    ] = 64.0,
    max_samples: Annotated[int, typer.Option("--max-samples", help="Most samples in one job (413 above).")] = 50_000,
    max_queued: Annotated[int, typer.Option("--max-queued", help="Most unfinished jobs per client (429 above).")] = 8,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="Serve the JSON API only, on the standard library's HTTP server, even when the Gradio extra is installed.",
        ),
    ] = False,
) -> None:
    """Serve evaluations over HTTP: the official Gradio /predict API (pip install 'bcb\\[serve]') and a JSON API."""
    with user_errors(ExecutorError):
        check_executor_flags(executor, ray_address, allow_mixed_env)
        for name, value in (("--parallel", parallel), ("--max-samples", max_samples)):
            if value < 0:
                raise DatasetError(f"{name} must be >= 0")
        if jobs < 1 or max_queued < 1 or not max_upload_mb > 0:
            raise DatasetError("--jobs, --max-queued and --max-upload-mb must be positive")
        gradio = not plain and importlib.util.find_spec("gradio") is not None
        config = ServeConfig(
            root=root,
            python=python or sys.executable,
            dataset=dataset,
            version=version,
            dataset_file=dataset_file,
            data_dir=data_dir,
            workers=parallel,
            concurrent_jobs=jobs,
            max_upload_mb=max_upload_mb,
            max_samples=max_samples,
            max_queued_per_client=max_queued,
            sandbox=SandboxOptions(),
            executor=executor,
            ray_address=ray_address,
            allow_mixed_env=allow_mixed_env,
        )
        _check_port(host, port)
        service = EvaluationService(config)
        try:
            started = service.start()
        except ExecutorError as exc:
            if executor == "ray":
                raise  # the cluster's own reason (unreachable, a refused node, a worker's sandbox) says what to do
            raise ExecutorError(
                f"{exc} (bcb serve runs strangers' code and does not start without the sandbox that bcb evaluate uses)"
            ) from None
    on = ", ".join(k for k in LAYER_NAMES if started["sandbox"].get(k)) or "none"
    err_console.print(
        f"sandbox: tier {started['sandbox'].get('tier', '?')}, on ({on}); samples run in the same sandbox as bcb evaluate",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    if started["requeued"]:
        err_console.print(
            f"resuming {started['requeued']} job(s) that were running when the server stopped",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    api = (
        "/predict (Gradio) and /api/v1 (JSON)"
        if gradio
        else "/api/v1 (JSON; pip install 'bcb[serve]' for the official Gradio /predict)"
    )
    auth = "bearer token required" if token else "no token (anyone who reaches the port may submit)"
    where = " on the Ray cluster" if executor == "ray" else ""
    err_console.print(
        f"serving {config.dataset} on http://{host}:{port}/ with {started['workers']} warm workers{where}: {api}; {auth}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if gradio:
            from bcb.server.gradio_app import serve_gradio

            serve_gradio(service, host, port, token)
        else:
            from bcb.server.api import serve_plain

            server = serve_plain(service, host, port, token)
            try:
                server.serve_forever()
            finally:
                server.server_close()
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        err_console.print(
            f"[bold red]error:[/] cannot listen on {host}:{port}: {exc.strerror or exc}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
    finally:
        service.close()


def _check_port(host: str, port: int) -> None:
    """Before the workers start: a port in use is one line now, not a failure after the warm-up."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DatasetError(f"--host {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise DatasetError(f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port") from None

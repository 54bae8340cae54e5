"""The emulator's web application and entry point: `python -m dagster_billing.local_stripe --ready-file F`.

Listens on 127.0.0.1 only, on a free port it picks itself, and writes that port to the ready file once it listens
(the launcher in `process.py` waits for it). Admin routes under `/_config/` (no API key, as in stock localstripe):
`GET stats`, `POST faults` (rate, seed), `POST idempotency/expire`, `POST reset`.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from aiohttp import web
from localstripe import server
from localstripe.resources import store

from dagster_billing.local_stripe.emulator import (
    IdempotencyKeys,
    OneOffInvoice,
    add_routes,
    keep_store_in_memory,
)
from dagster_billing.local_stripe.faults import FaultInjector


def build_app(fault_rate: float = 0.0, fault_seed: int = 0) -> web.Application:
    keep_store_in_memory()
    faults = FaultInjector(fault_rate, fault_seed)
    keys = IdempotencyKeys()
    # Outermost first: faults see every request; a fault "after" wraps the idempotent result being saved.
    app = web.Application(
        middlewares=[faults.middleware(), keys.middleware(), server.error_middleware, server.auth_middleware]
    )
    add_routes(app)
    _add_admin_routes(app, faults, keys)
    return app


def _add_admin_routes(app: web.Application, faults: FaultInjector, keys: IdempotencyKeys) -> None:
    async def stats(request: web.Request) -> web.Response:
        return server.json_response({**faults.requests, "replayed": keys.replayed})

    async def configure_faults(request: web.Request) -> web.Response:
        data = await server.get_post_data(request) or {}
        faults.configure(float(data.get("rate", 0)), int(data.get("seed", 0)))
        return server.json_response({"rate": faults.rate})

    async def expire_keys(request: web.Request) -> web.Response:
        keys.forget_all()
        return server.json_response({"expired": True})

    async def reset(request: web.Request) -> web.Response:
        store.clear()
        keys.forget_all()
        keys.replayed = 0
        faults.requests.clear()
        faults.configure(0.0, 0)
        OneOffInvoice._numbers_issued.clear()
        return server.json_response({"reset": True})

    app.router.add_get("/_config/stats", stats)
    app.router.add_post("/_config/faults", configure_faults)
    app.router.add_post("/_config/idempotency/expire", expire_keys)
    app.router.add_post("/_config/reset", reset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-file", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=0)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", args.port))
    app = build_app(args.fault_rate, args.fault_seed)
    temporary = args.ready_file.with_suffix(".tmp")
    temporary.write_text(str(sock.getsockname()[1]))
    temporary.replace(args.ready_file)  # the launcher never reads a half-written port
    web.run_app(app, sock=sock, print=None, access_log=None)

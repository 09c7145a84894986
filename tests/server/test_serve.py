"""``cloudrate serve`` runs the service alone; ``import cloudrate`` stays light."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import cloudrate


def test_import_cloudrate_does_not_import_the_server() -> None:
    code = (
        "import sys, cloudrate, cloudrate.cli; cloudrate.rate; import cloudrate.cli._main; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'cloudrate.server') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cloudrate_serve(tmp_path: Path) -> None:
    """The command listens on 127.0.0.1, rates, and bills into the store it was given."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "billing.db"
    command = [
        sys.executable,
        "-c",
        "from cloudrate.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--store",
        str(store),
        "--plan",
        str(cloudrate.sample_plan_path()),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.1)
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = [r.to_dict() for r in cloudrate.read_usage(cloudrate.sample_usage_path())]
        run = httpx.post(
            f"{url}/v1/billing-runs",
            timeout=60,
            json={"plan_name": plan.name, "usage": usage, "period": "2026-10"},
        )
        assert run.status_code == 200, run.text
        assert run.json()["issued"]["invoice"] == 3
    finally:
        process.terminate()
        process.wait(10)
    from cloudrate.billing import open_store

    kept = open_store(store)
    assert [d.number for d in kept.documents()] == [
        "INV-2026-0001",
        "INV-2026-0002",
        "INV-2026-0003",
    ]
    kept.close()

"""The public record of a target draw: anyone, signed in or not, reads it, downloads the record,
the pool files and the verifier, and re-runs the draw outside the application."""
import json
import subprocess
import sys

from sqlalchemy import select

from inspection.directory.models import Employer
from inspection.extensions import db

from target_support import execute, make_task, prepare, world  # noqa: F401


def _download(client, public_id, tmp_path):
    record = client.get(f"/public/draws/{public_id}/record.json")
    assert record.status_code == 200 and record.mimetype == "application/json"
    data = record.get_json()
    (tmp_path / f"{public_id}.json").write_bytes(record.data)
    files = []
    for pool in data["commitment"]["pools"]:
        response = client.get(f"/public/draws/{public_id}/pools/{pool['name']}.txt")
        assert response.status_code == 200
        name = response.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
        assert name == pool["file"]
        (tmp_path / name).write_bytes(response.data)
        files.append(name)
    for name in ("verify.py", "rfc3797.py"):
        response = client.get(f"/public/draws/{public_id}/{name}")
        assert response.status_code == 200
        (tmp_path / name).write_bytes(response.data)
    return data, files


def test_commitment_is_public_before_execution(app, world, client):
    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        public_id = draw.public_id
    page = client.get(f"/public/draws/{public_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert public_id in html and "<svg" in html and 'style="' not in html
    assert draw.commitment_sha256 in html
    data = client.get(f"/public/draws/{public_id}/record.json").get_json()
    assert data["commitment"]["draw_id"] == public_id
    assert "execution" not in data and "results" not in data
    for secret in data["commitment"]["secret_commitments"]:
        assert len(secret["sha256"]) == 64 and "secret" not in secret
    pool = client.get(f"/public/draws/{public_id}/pools/B.txt")
    assert pool.data.count(b"\n") == 30
    assert client.get(f"/public/draws/{public_id}/pools/Z.txt").status_code == 404
    assert client.get("/public/draws/DRAW-1999-0001").status_code == 404


def test_download_and_verify_outside_the_app(app, world, client, tmp_path, project_root):
    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        execute(world, draw.id)
        public_id = draw.public_id
        names = dict(db.session.execute(select(Employer.credit_code, Employer.name)).all())
    html = client.get(f"/public/draws/{public_id}").get_data(as_text=True)
    data, files = _download(client, public_id, tmp_path)
    assert len(data["results"]) == 4 and data["execution"]["key_string"]
    for result in data["results"]:
        for code in result["selected"]:
            assert code in html and names[code] in html
    assert f"python verify.py {public_id}.json" in html

    # standalone: the two downloaded files only, no site-packages, no application (the
    # public log is left out: its sources were known before this draw was committed, so
    # that it could be executed at once; tests/draws/test_tlog_app.py checks the log)
    run = subprocess.run([sys.executable, "-I", "-S", "verify.py", "--no-log",
                          f"{public_id}.json", *files],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "OK", run.stdout + run.stderr
    # the package's module form, on the same downloads
    run = subprocess.run([sys.executable, "-m", "inspection.draws.engine.verify", "--no-log",
                          str(tmp_path / f"{public_id}.json"),
                          *[str(tmp_path / f) for f in files]],
                         cwd=project_root, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "OK", run.stdout + run.stderr

    # a changed pool file or source value is caught
    pool = tmp_path / files[1]
    lines = pool.read_text().splitlines()
    pool.write_text("\n".join(lines[1:]) + "\n")
    run = subprocess.run([sys.executable, "-I", "-S", "verify.py", f"{public_id}.json", *files],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "FAILED" in run.stdout
    pool.write_text("\n".join(lines) + "\n")
    record = json.loads((tmp_path / f"{public_id}.json").read_text())
    record["execution"]["sources"][0] = ["5", "0", "9"]
    (tmp_path / "tampered.json").write_text(json.dumps(record))
    run = subprocess.run([sys.executable, "-I", "-S", "verify.py", "tampered.json", *files],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "key_string" in run.stdout, run.stdout


def test_public_pages_need_no_account_and_hide_visits(app, world, client):
    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        execute(world, draw.id)
        public_id = draw.public_id
    html = client.get(f"/public/draws/{public_id}").get_data(as_text=True)
    assert "2026-000001" not in html          # visit numbers stay internal
    assert client.get(f"/public/draws/{public_id}/verify.py").data.startswith(b'"""')


def test_the_pages_qr_code_reads_back_as_its_address(tmp_path):
    """The public page's QR code (inline SVG, one rectangle per run of dark modules) drawn
    as the browser would and read by a real decoder."""
    import re as _re
    import subprocess as _subprocess

    from PIL import Image

    from inspection.draws.public_views import qr_svg

    url = "https://example.gov.cn/public/draws/DRAW-2026-0001"
    svg = str(qr_svg(url))
    n = int(_re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    image = Image.new("L", (n, n), 255)
    for x, y, w in _re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        for dx in range(int(w)):
            image.putpixel((int(x) + dx, int(y)), 0)
    image.resize((n * 8, n * 8), Image.NEAREST).save(tmp_path / "qr.png")
    read = _subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "qr.png")],
                           capture_output=True, text=True)
    assert read.stdout.strip() == url, read.stderr

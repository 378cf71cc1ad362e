"""The baseline figures: the upload form and importing a CSV or Excel file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse

from bot.dashboard.deps import AdminDep, AdminPageDep, RuntimeDep
from bot.dashboard.pages import render
from bot.storage.db import unit_of_work, utcnow
from reporting.baseline import BaselineError, import_file

router = APIRouter()

MAX_BYTES = 10 * 1024 * 1024


@router.get("/baseline")
async def baseline_page(request: Request, account: AdminPageDep) -> HTMLResponse:
    return render(request, "baseline.html", account, errors=None, result=None)


@router.post("/baseline")
def baseline_upload(request: Request, account: AdminDep, runtime: RuntimeDep, file: UploadFile) -> HTMLResponse:
    suffix = Path(file.filename or "").suffix.lower()
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return render(request, "baseline.html", account, errors=["Tệp lớn quá 10 MB."], result=None, status_code=413)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"baseline{suffix}"
            path.write_bytes(data)
            with unit_of_work(runtime.sessions) as session:
                result = import_file(session, path, now=utcnow())
    except BaselineError as exc:
        return render(request, "baseline.html", account, errors=[str(e) for e in exc.errors], result=None,
                      status_code=422)
    except Exception:  # an unreadable spreadsheet
        return render(request, "baseline.html", account, status_code=422, result=None,
                      errors=["Không đọc được tệp. Dùng tệp .csv (UTF-8) hoặc .xlsx có dòng tiêu đề."])
    return render(request, "baseline.html", account, errors=None, result=result)

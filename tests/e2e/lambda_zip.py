"""The deployment package the end-to-end Lambda tests upload: one module, ``app.py``."""

from __future__ import annotations

import io
import zipfile


def zip_app(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()

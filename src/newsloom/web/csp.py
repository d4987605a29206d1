"""The Content-Security-Policy of every response, and the API docs page (Swagger UI) served under it.

Everything the pages load comes from this server: no CDN, no inline script. Swagger UI is vendored under
``static/vendor/swagger-ui`` (swagger-ui-dist, files copied unmodified; see its VERSION file); its page starts
the bundle with one inline script, which is allowed by its SHA-256 hash and nothing else, so the docs page
runs under the same policy as the rest of the site.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

# Article images may come from the outlets (https), which is what a reader view shows; nothing else may be
# framed, posted to or run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; manifest-src 'self'; "
    "worker-src 'self'; connect-src 'self'"
)
SWAGGER_DIR = "/static/vendor/swagger-ui"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def with_inline_scripts(policy: str, html: str) -> str:
    """``policy`` whose script-src also allows exactly the inline scripts of ``html`` (by hash)."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]
    if not hashes:
        return policy
    return policy.replace("script-src 'self'", "script-src 'self' " + " ".join(hashes), 1)


def swagger_ui_page(openapi_url: str, title: str) -> HTMLResponse:
    """Swagger UI for ``openapi_url`` from the vendored files, with its own (hash-extended) policy."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{SWAGGER_DIR}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_DIR}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_DIR}/favicon-32x32.png",
    )
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = with_inline_scripts(CONTENT_SECURITY_POLICY, html)
    return page

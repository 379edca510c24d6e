"""/redoc, offline: ReDoc's bundle as fastapi-offline ships it, but for its one request to
another host. The bundle shows Redocly's logo from cdn.redoc.ly, and hides it when it does
not load; here its address is an empty `data:` URL, which never loads, so a reader's browser
asks no host but this one (tests/e2e/test_browser_docs.py watches every request)."""

import functools
import re
from importlib import resources

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

OFFLINE_ASSETS = "/static-offline-docs"  # fastapi-offline's mount
_BUNDLE_PATH = "/docs-assets/redoc.standalone.js"
_OTHER_HOST = re.compile(rb'"https://cdn\.redoc\.ly/[^"]*"')


@functools.cache
def _bundle() -> bytes:
    shipped = resources.files("fastapi_offline").joinpath("static/redoc.standalone.js")
    return _OTHER_HOST.sub(b'"data:,"', shipped.read_bytes())


async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{_BUNDLE_PATH}",
        redoc_favicon_url=f"{root}{OFFLINE_ASSETS}/favicon.png",
        with_google_fonts=False,
    )


async def redoc_bundle() -> Response:
    return Response(_bundle(), media_type="text/javascript")


def install(app: FastAPI) -> None:
    # On the app itself, not through a router: FastAPI keeps included routes out of
    # `app.routes`, where api/problems.py finds the methods a 405's Allow names.
    app.add_api_route("/redoc", redoc, include_in_schema=False)
    app.add_api_route(_BUNDLE_PATH, redoc_bundle, include_in_schema=False)

"""The web app: one page (static/index.html) and its JavaScript modules, served from the
package, built only on the public API (static/api.js)."""

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

# The page and its files come from this host alone, and the page sends no Referer (a board's
# URL would name it to whatever host a link leads to).
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def page() -> HTMLResponse:
    html = resources.files(__package__).joinpath("static/index.html").read_text()
    return HTMLResponse(html, headers=_HEADERS)


def install(app: FastAPI) -> None:
    app.add_api_route("/", page, include_in_schema=False)
    app.mount("/app", StaticFiles(packages=[(__package__, "static")]), name="app")

"""The FastAPI app of ``viclip serve``: the page at ``/``, the JSON API under ``/api``, OpenAPI docs at ``/docs``.

Every error is JSON ``{"error": "one line"}`` with a 4xx status: 400 for a query that cannot be answered,
404 for an unknown id or path, 422 for a parameter of the wrong type.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException

from ..processing import VideoDecodeError
from .files import VideoFiles, media_type
from .service import DEFAULT_TOP_K, QueryError, SearchService, UnknownMomentError
from .thumbnails import Thumbnails

# The page runs its own inline script and loads nothing from elsewhere.
PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'"
)


def create_app(
    service: SearchService,
    thumbnails: Thumbnails,
    *,
    files: VideoFiles | None = None,
    title: str = "ViCLIP search",
) -> FastAPI:
    """The app over ``service``; videos are sent only through ``files`` (default: the index's own files)."""
    files = files or VideoFiles(service.index.clips.column("path").to_pylist())
    page = resources.files(__package__).joinpath("page/index.html").read_text(encoding="utf-8")
    app = FastAPI(title=title, summary="Text-to-moment search over a ViCLIP vector index.")

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "request"
        return error(422, f"{where}: {first['msg']} (got {first.get('input')!r})")

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> JSONResponse:
        return error(400, str(exc))

    @app.exception_handler(UnknownMomentError)
    async def unknown_moment(request: Request, exc: UnknownMomentError) -> JSONResponse:
        return error(404, str(exc))

    def moment_urls(moment_id: int) -> dict[str, str]:
        return {"video_url": f"/api/videos/{moment_id}", "thumbnail_url": f"/api/thumbnails/{moment_id}.jpg"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        """The index: how many moments, its kind and the model that embedded them."""
        return {
            "moments": len(service),
            "kind": service.index.kind,
            "model": service.index.info.get("model"),
            "max_top_k": service.max_top_k,
        }

    @app.get("/api/search")
    def search(
        text: Annotated[str | None, Query(description="the text to search for")] = None,
        like: Annotated[
            int | None, Query(description="the id of a result: search by its stored embedding")
        ] = None,
        top_k: Annotated[int, Query(description="how many results")] = DEFAULT_TOP_K,
        min_score: Annotated[float | None, Query(description="drop results of lower cosine")] = None,
        path_contains: Annotated[
            str | None, Query(description="only files whose path contains this (case-insensitive)")
        ] = None,
    ) -> dict[str, Any]:
        """The moments that best match ``text``, or that are most like moment ``like``, best first."""
        if (text is None) == (like is None):
            raise QueryError("give text=... or like=ID, one of them")
        filters = {"min_score": min_score, "path_contains": path_contains or None}
        if text is not None:
            query: dict[str, Any] = {"text": text}
            moments = service.search_text(text, top_k, **filters)
        else:
            query = {"like": like}
            moments = service.search_like(like, top_k, **filters)
        query.update(top_k=top_k, **{k: v for k, v in filters.items() if v is not None})
        return {
            "query": query,
            "results": [{**m.to_dict(), **moment_urls(m.id)} for m in moments],
        }

    @app.get("/api/videos/{moment_id}")
    def video(moment_id: str) -> FileResponse:
        """The video file of a result (HTTP range requests answered with 206 Partial Content)."""
        path = _servable(files, moment_id)
        return FileResponse(path, media_type=media_type(path), filename=os.path.basename(path),
                            content_disposition_type="inline")  # fmt: skip

    @app.get("/api/thumbnails/{moment_id}.jpg")
    def thumbnail(moment_id: str) -> FileResponse:
        """A JPEG of the middle frame of a result, made once and cached beside the index."""
        path = _servable(files, moment_id)
        moment = service.moment(int(moment_id))
        try:
            jpeg = thumbnails.get(path, moment.start_sec, moment.end_sec)
        except VideoDecodeError as exc:
            raise HTTPException(404, f"no thumbnail for moment {moment_id}: {exc}") from None
        return FileResponse(jpeg, media_type="image/jpeg", headers={"Cache-Control": "max-age=86400"})

    return app


def _servable(files: VideoFiles, moment_id: str) -> str:
    """The file of ``moment_id`` (decimal digits only), or a 404 that names no path."""
    is_id = moment_id.isascii() and moment_id.isdigit() and len(moment_id) <= 18
    path = files.servable(int(moment_id)) if is_id else None
    if path is None:
        raise HTTPException(404, f"no video for {moment_id!r}")
    return path

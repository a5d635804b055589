"""`viclip serve`'s JSON API through FastAPI's in-process client: results, filters, files, thumbnails, errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from viclip.serving import QueryError

# (query parameters, status, words the one-line error contains)
BAD_QUERIES = [
    ({"text": ""}, 400, "text is empty"),
    ({"text": "   "}, 400, "text is empty"),
    ({"text": "x" * 1001}, 400, "at most 1000"),
    ({}, 400, "text=... or like=ID"),
    ({"text": "red", "like": 1}, 400, "one of them"),
    ({"text": "red", "top_k": 0}, 400, "top_k must be"),
    ({"text": "red", "top_k": 21}, 400, "from 1 to 20"),
    ({"text": "red", "top_k": "many"}, 422, "top_k:"),
    ({"like": 99}, 404, "no moment with id 99"),
    ({"like": -1}, 404, "no moment with id -1"),
    ({"like": "red.mp4"}, 422, "like:"),
    ({"text": "red", "min_score": "high"}, 422, "min_score:"),
    ({"text": "red", "min_score": 1.5}, 400, "min_score must be"),
    ({"text": "red", "min_score": "nan"}, 400, "min_score must be"),
    ({"text": "red", "path_contains": "a\x00b"}, 400, "path_contains must be"),
]

# Format fields: {secret} (an absolute path outside the library), {escape_id} (the row of a symlink leaving it).
TRAVERSALS = [
    "/api/videos/../../outside/secret.mp4",
    "/api/videos/%2e%2e/%2e%2e/outside/secret.mp4",
    "/api/videos/%2e%2e%2f%2e%2e%2foutside%2fsecret.mp4",
    "/api/videos/..%2F..%2Fetc%2Fpasswd",
    "/api/videos/%252e%252e%252fetc%252fpasswd",
    "/api/videos/{secret}",
    "/api/videos/%2F{secret}",
    "/api/videos//etc/passwd",
    "/api/videos/0%2F..%2F..%2Fetc%2Fpasswd",
    "/api/videos/{escape_id}",
    "/api/thumbnails/{escape_id}.jpg",
    "/api/thumbnails/..%2F..%2Foutside%2Fsecret.jpg",
    "/api/videos/99",
    "/api/videos/-1",
    "/api/videos/1.0",
    "/api/videos/%EF%BC%91",  # a full-width digit one
    "/api/videos/" + "9" * 5000,
    "/secret.mp4",
    "/static/../../outside/secret.mp4",
]

RESULT_KEYS = {"id", "path", "start_sec", "end_sec", "score", "video_url", "thumbnail_url"}


def test_text_search_returns_the_captioned_moment_first_with_its_urls(client, library):
    body = client.get("/api/search", params={"text": "green second half", "top_k": 4}).json()
    assert body["query"] == {"text": "green second half", "top_k": 4}
    results = body["results"]
    assert len(results) == 4 and all(set(r) == RESULT_KEYS for r in results)
    best = results[0]
    assert (best["id"], best["path"], best["start_sec"], best["end_sec"]) == (3, *library["rows"][3])
    assert best["score"] == pytest.approx(1.0, abs=1e-5)
    assert best["video_url"] == "/api/videos/3" and best["thumbnail_url"] == "/api/thumbnails/3.jpg"
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_query_text_is_encoded_as_viclip_search_encodes_it(service, index, text_embedder):
    text = "  A Red square, moving RIGHT!  "
    np.testing.assert_array_equal(service.encode_text(text), text_embedder.encode_text([text])[0].numpy())
    expected = index.search_text(text_embedder, text, top_k=5)[0]
    found = service.search_text(text, top_k=5)
    assert [(m.path, m.start_sec, m.score) for m in found] == [
        (h.path, h.start_sec, h.score) for h in expected
    ]


def test_min_score_keeps_only_results_at_or_above_it(client):
    results = client.get("/api/search", params={"text": "red first half", "min_score": 0.999}).json()[
        "results"
    ]
    assert [r["id"] for r in results] == [0]


def test_path_contains_filters_case_insensitively_before_ranking(client, library):
    body = client.get(
        "/api/search", params={"text": "red first half", "path_contains": "SUB/", "top_k": 5}
    ).json()
    assert body["query"]["path_contains"] == "SUB/"
    assert [r["id"] for r in body["results"]] in ([4, 5], [5, 4])
    assert all("/sub/" in r["path"] for r in body["results"])
    assert (
        client.get("/api/search", params={"text": "red", "path_contains": "nowhere"}).json()["results"] == []
    )


def test_more_like_this_searches_by_the_stored_embedding(client, service, index):
    body = client.get("/api/search", params={"like": 2, "top_k": 3}).json()
    assert body["query"] == {"like": 2, "top_k": 3}
    assert body["results"][0]["id"] == 2 and body["results"][0]["score"] == pytest.approx(1.0, abs=1e-5)
    expected = service.search_vector(index.index.reconstruct(2), top_k=3)
    assert [(r["id"], r["score"]) for r in body["results"]] == [(m.id, m.score) for m in expected]


@pytest.mark.parametrize(("params", "status", "words"), BAD_QUERIES, ids=[c[2] for c in BAD_QUERIES])
def test_bad_queries_get_a_one_line_json_error(client, params, status, words):
    response = client.get("/api/search", params=params)
    assert response.status_code == status
    message = response.json()["error"]
    assert words in message and "\n" not in message


def test_service_refuses_what_the_api_refuses(service):
    with pytest.raises(QueryError, match="top_k"):
        service.search_text("red", top_k=21)


def test_video_range_request_gets_206_and_exactly_those_bytes(client, library):
    data = Path(library["rows"][0][0]).read_bytes()
    response = client.get("/api/videos/0", headers={"Range": "bytes=100-1099"})
    assert response.status_code == 206
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    assert response.content == data[100:1100]
    whole = client.get("/api/videos/0")
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    tail = client.get("/api/videos/0", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]


def test_thumbnail_is_the_moments_middle_frame_made_once_and_cached(client, thumbnail_dir, monkeypatch):
    from PIL import Image

    from viclip.serving import thumbnails

    response = client.get("/api/thumbnails/5.jpg")  # sub/blue.mp4, [1 s, 2 s)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert image.shape == (96, 160, 3)
    red, green, blue = image[:16].reshape(-1, 3).mean(axis=0)  # above the square: the video's colour
    assert blue > 180 and red < 60 and green < 70
    assert len(list(thumbnail_dir.glob("*.jpg"))) >= 1

    def must_not_decode(*args, **kwargs):
        raise AssertionError("a cached thumbnail was decoded again")

    monkeypatch.setattr(thumbnails, "read_video_clip", must_not_decode)
    assert client.get("/api/thumbnails/5.jpg").content == response.content


@pytest.mark.parametrize("url", TRAVERSALS)
def test_paths_outside_the_index_get_404_and_are_never_opened(client, library, opened, url):
    url = url.format(secret=library["secret"], escape_id=len(library["rows"]) - 1)
    response = client.get(url)
    assert response.status_code == 404
    assert "error" in response.json()
    outside = str(library["outside"])
    assert not [
        p for p in opened if p.startswith(outside) or p.endswith(("passwd", "secret.mp4", "escape.mp4"))
    ]


def test_the_page_loads_nothing_from_elsewhere_and_the_docs_list_the_api(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    schema = client.get("/openapi.json").json()
    assert {"/api/search", "/api/videos/{moment_id}", "/api/thumbnails/{moment_id}.jpg"} <= set(
        schema["paths"]
    )
    assert client.get("/docs").status_code == 200
    assert client.get("/api/info").json() == {"moments": 7, "kind": "exact", "model": "tiny", "max_top_k": 20}


def test_the_open_audit_sees_what_the_server_opens(client, library, opened):
    """The traversal test above would pass vacuously if the audit missed the server's opens."""
    assert client.get("/api/videos/0").status_code == 200
    assert client.get("/api/thumbnails/1.jpg").status_code == 200
    assert opened.count(library["rows"][0][0]) >= 2  # the file response and the thumbnail's decoder

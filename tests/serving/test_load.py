"""A bounded load test on loopback: concurrent clients against one running server, every query answered right."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from viclip.serving import SearchService

QUERIES = ["red first half", "green second half", "blue first half", "a moving square", "blue second half"]


def test_eight_clients_times_five_queries_are_all_answered_correctly(live_url, service: SearchService):
    expected = {q: [(m.id, m.score) for m in service.search_text(q, top_k=4)] for q in QUERIES}

    def client_session(client_number: int) -> list[tuple[str, int, list]]:
        answers = []
        with httpx.Client(base_url=live_url, timeout=60) as http:
            for i in range(5):
                query = QUERIES[(client_number + i) % len(QUERIES)]
                response = http.get("/api/search", params={"text": query, "top_k": 4})
                got = [(r["id"], r["score"]) for r in response.json()["results"]]
                answers.append((query, response.status_code, got))
        return answers

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [a for session in pool.map(client_session, range(8)) for a in session]
    assert len(answers) == 40
    assert all(status == 200 for _, status, _ in answers)
    # The same moments in the same order; scores equal up to float32 noise (a matrix product split across another
    # number of threads rounds differently in the last bit).
    for query, _, got in answers:
        assert [moment_id for moment_id, _ in got] == [moment_id for moment_id, _ in expected[query]]
        assert [score for _, score in got] == pytest.approx([score for _, score in expected[query]], abs=1e-5)

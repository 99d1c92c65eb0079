"""The optional language model, against a small OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.answers import answer_build
from assistant.model import answer_phrase, model_configured
from tests.assistant.test_corpus import TODAY


class FakeModel:
    """What the fake server replies, how slowly, and what it was sent."""

    def __init__(self) -> None:
        self.reply = ""
        self.delay = 0.0
        self.requests: list[dict] = []


@pytest.fixture
def fake_model(settings) -> Iterator[FakeModel]:
    state = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 — the name http.server calls
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)}
            )
            time.sleep(state.delay)
            payload = {"choices": [{"message": {"role": "assistant", "content": state.reply}}]}
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CASEPILOT_LLM_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.CASEPILOT_LLM_MODEL = "fake-coder"
    settings.CASEPILOT_LLM_API_KEY = "sk-test"
    settings.CASEPILOT_LLM_TIMEOUT = 1
    yield state
    server.shutdown()
    server.server_close()


def _answer(text: str):
    return answer_build(text=text, today=TODAY, sections=True)


@pytest.mark.django_db
def test_nothing_is_sent_unless_the_model_is_configured(demo, settings) -> None:
    settings.CASEPILOT_LLM_URL = ""
    answer = _answer("how much does Medicare pay for 99213")
    answer_phrase(question="how much does Medicare pay for 99213", answer=answer)
    assert not model_configured()
    assert (answer.summary, answer.model_status) == ([], "")


@pytest.mark.django_db
def test_a_cited_answer_is_accepted(demo, fake_model) -> None:
    fake_model.reply = "Medicare pays $90.82 for 99213 in an office [1]."
    answer = _answer("how much does Medicare pay for 99213")
    answer_phrase(question="how much does Medicare pay for 99213", answer=answer)
    assert answer.model_status == "used"
    assert answer.summary == [
        {"text": "Medicare pays $90.82 for 99213 in an office.", "cites": [1]}
    ]
    sent = fake_model.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-test"
    assert "[1] 99213 national Medicare payment" in sent["messages"][1]["content"]


@pytest.mark.django_db
def test_a_made_up_code_or_an_uncited_sentence_is_dropped(demo, fake_model) -> None:
    fake_model.reply = (
        "Medicare pays $90.82 for 99213 [1]. You could also bill 99999 for this [1]. "
        "Most payers follow Medicare. Fact nine says otherwise [9]."
    )
    answer = _answer("how much does Medicare pay for 99213")
    answer_phrase(question="how much does Medicare pay for 99213", answer=answer)
    assert [s["text"] for s in answer.summary] == ["Medicare pays $90.82 for 99213."]


@pytest.mark.django_db
def test_a_timeout_falls_back_to_the_table_answer(demo, fake_model, client) -> None:
    fake_model.reply = "Too late [1]."
    fake_model.delay = 2
    response = client.post("/casepilot/ask/", {"question": "what is CPT code 99213 for?"})
    page = client.get(response["Location"]).content.decode()
    assert len(fake_model.requests) == 1
    assert "The language model was unavailable" in page
    assert "Too late" not in page
    assert "CPT 99213: Office o/p est low 20 min." in page  # the table answer stands


@pytest.mark.django_db
def test_an_account_sees_the_cited_summary_on_the_page(demo, fake_model, member_client) -> None:
    fake_model.reply = "Medicare pays $90.82 for 99213 in an office [1]."
    response = member_client.post(
        "/casepilot/ask/", {"question": "how much does Medicare pay for 99213"}
    )
    page = member_client.get(response["Location"]).content.decode()
    assert "Medicare pays $90.82 for 99213 in an office." in page
    assert 'class="cite">[1]</a>' in page

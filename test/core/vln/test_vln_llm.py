"""LLM backends: constrained choices from a tiny random GPT-2, and an HTTP endpoint that
answers badly before it answers well (a local http.server fake)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from r2r_world import write_world

from ifagent_ros.core.vln.evaluate import run_episode
from ifagent_ros.core.vln.llm import (
    HttpChatBackend,
    LLMPlanner,
    TransformersBackend,
    answer_schema,
    parse_answer,
)
from ifagent_ros.core.vln.r2r_env import R2RData, R2RGraphEnv


def tiny_gpt2(seed: int):
    """A randomly initialised 1-layer GPT-2 with a byte-level tokenizer built offline."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(alphabet), n_layer=1, n_head=2, n_embd=32,
                        n_positions=256, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(config), tokenizer


def test_parse_answer_validates_choices():
    ok = parse_answer('sure: {"action": "move", "place": 3, "plan": "go"}', [3, 4], 0)
    assert (ok.action, ok.place, ok.plan) == ("move", 3, "go")
    assert parse_answer('{"action": "move", "place": "Place 4", "plan": ""}', [3, 4], 0).place == 4
    assert parse_answer('{"action": "stop", "place": 99, "plan": "here"}', [3], 0).place == 0
    for bad, why in [("", "empty"), ("no json here", "no JSON"), ("{oops}", "not valid JSON"),
                     ('{"action": "fly", "place": 3}', "action"),
                     ('{"action": "move", "place": 9, "plan": ""}', "not one of"),
                     ('{"action": "move", "place": true, "plan": ""}', "place number")]:
        with pytest.raises(ValueError, match=why):
            parse_answer(bad, [3, 4], 0)
    schema = answer_schema([3, 4], 0)
    assert schema["properties"]["place"]["enum"] == [0, 3, 4]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_random_gpt2_always_gives_a_valid_choice(seed):
    model, tokenizer = tiny_gpt2(seed)
    backend = TransformersBackend(model=model, tokenizer=tokenizer, plan_tokens=6)
    long_prompt = "Map: Place 0 is connected with Places 1, 2. " * 40  # longer than 256 tokens
    for moves, current in ([1, 2], 0), ([7], 3), ([2, 5, 11, 12], 4):
        choice = backend.choose("system", long_prompt, moves, current)
        assert choice.action in ("move", "stop")
        assert (choice.place in moves) if choice.action == "move" else choice.place == current
        assert json.loads(choice.raw)["place"] == choice.place and '"' not in choice.plan


def test_llm_planner_with_tiny_model_runs_an_episode_on_valid_moves(tmp_path):
    data = R2RData(write_world(tmp_path / "r2r"))
    env = R2RGraphEnv(data)
    model, tokenizer = tiny_gpt2(0)
    planner = LLMPlanner(TransformersBackend(model=model, tokenizer=tokenizer, plan_tokens=4),
                         max_moves=6)
    result = run_episode(env, planner, data.episodes("toy")[0], keep_decisions=True)
    assert result.decisions[-1].action == "stop" or len(result.trajectory) == 7
    for place, decision in zip(result.trajectory, result.decisions, strict=False):
        if decision.action == "move":
            assert decision.target in env.scan.adjacency[place]
            assert decision.extras.get("llm") == "transformers"


class FakeChat(BaseHTTPRequestHandler):
    """Answers from a script: each request pops the next reply."""

    replies: list = []
    requests: list = []

    def do_POST(self):  # http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeChat.requests.append({"body": body, "auth": self.headers.get("Authorization")})
        reply = FakeChat.replies.pop(0) if FakeChat.replies else "no more"
        if isinstance(reply, int):
            self.send_response(reply)
            self.end_headers()
            return
        payload = json.dumps({"choices": [{"message": {"role": "assistant",
                                                       "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = HTTPServer(("127.0.0.1", 0), FakeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeChat.replies, FakeChat.requests = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_backend_retries_after_an_invalid_answer(fake_server, monkeypatch):
    monkeypatch.setenv("IFAGENT_LLM_API_KEY", "k-test")
    FakeChat.replies = ['{"action": "move", "place": 42, "plan": "?"}',
                        '{"action": "move", "place": 2, "plan": "to the door"}']
    backend = HttpChatBackend(fake_server, "tiny")
    choice = backend.choose("sys", "prompt", [1, 2], 0)
    assert (choice.action, choice.place, choice.plan) == ("move", 2, "to the door")
    assert len(FakeChat.requests) == 2 and "not one of" in backend.last_errors[0]
    first, second = (r["body"] for r in FakeChat.requests)
    assert first["model"] == "tiny" and first["response_format"]["type"] == "json_schema"
    assert "Invalid answer" in second["messages"][-1]["content"]
    assert FakeChat.requests[0]["auth"] == "Bearer k-test"


def test_http_backend_drops_schema_when_refused(fake_server):
    FakeChat.replies = [400, '{"action": "stop", "place": 0, "plan": "done"}']
    choice = HttpChatBackend(fake_server, "m").choose("sys", "prompt", [1], 0)
    assert choice.action == "stop" and "response_format" not in FakeChat.requests[1]["body"]


def test_llm_planner_falls_back_to_rules_with_a_reason(fake_server, tmp_path):
    data = R2RData(write_world(tmp_path / "r2r"))
    env = R2RGraphEnv(data)
    FakeChat.replies = ["gibberish"] * 100
    planner = LLMPlanner(HttpChatBackend(fake_server, "m", retries=1))
    result = run_episode(env, planner, data.episodes("toy")[0], keep_decisions=True)
    assert result.metrics["success"] == 1  # the rule planner's route
    assert planner.fallbacks >= 1
    assert all("LLM fallback" in d.reason for d in result.decisions if d.action == "move")


def test_http_backend_unreachable_and_bad_url():
    with pytest.raises(ValueError):
        HttpChatBackend("localhost:1234", "m")
    backend = HttpChatBackend("http://127.0.0.1:9/v1", "m", retries=0, timeout_s=0.5)
    assert backend.choose("s", "p", [1], 0) is None and "request failed" in backend.last_errors[0]

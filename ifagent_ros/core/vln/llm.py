"""LLM backends for the navigation planner, with output constrained to the valid choices.

The prompt is the MapGPT-style map text (:meth:`TopoMap.to_text`), the instruction and the
rule planner's plan. The answer is one JSON object::

    {"action": "move" | "stop", "place": <one of the candidate place numbers>, "plan": "..."}

* :class:`HttpChatBackend`: any OpenAI-compatible ``/chat/completions`` endpoint (vLLM,
  llama.cpp server, Ollama). It sends the JSON schema as ``response_format`` (and retries without
  it when the server refuses the field), validates the answer, retries with the error, and
  returns ``None`` when every try failed so the planner can fall back to the rule planner.
* :class:`TransformersBackend`: a local causal LM (path, or model + tokenizer). The action and
  place are chosen by scoring each valid answer prefix (sum of token log-probabilities), so any
  model, even a randomly initialised one, yields a valid answer; the plan is a short greedy
  continuation, sanitised.

No new dependency: HTTP goes through ``urllib``; transformers/torch are imported only by the
local backend.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal, Protocol

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a robot navigating a building by following a route instruction. You see a map "
    "of the places you know, the objects around your current place and the places you can "
    "move to now. Choose the next place to move to, or stop when you have arrived. Answer "
    "with one JSON object only: {\"action\": \"move\" or \"stop\", \"place\": <place number>, "
    "\"plan\": \"<your updated plan, one sentence>\"}. For stop, place is your current place.")
MAX_PLAN_CHARS = 300


@dataclass(frozen=True)
class Choice:
    """A validated answer."""

    action: Literal["move", "stop"]
    place: int
    plan: str
    raw: str = ""


class ChoiceBackend(Protocol):
    name: str

    def choose(self, system: str, prompt: str, moves: list[int], current: int
               ) -> Choice | None:
        """A valid choice among ``moves`` (move) or ``current`` (stop); None if none came."""
        ...


def answer_schema(moves: list[int], current: int) -> dict:
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["move", "stop"]},
            "place": {"type": "integer", "enum": sorted({*moves, current})},
            "plan": {"type": "string", "maxLength": MAX_PLAN_CHARS},
        },
        "required": ["action", "place", "plan"],
        "additionalProperties": False,
    }


def parse_answer(text: str, moves: list[int], current: int) -> Choice:
    """The answer in ``text`` validated against the choices; ValueError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty answer")
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        raise ValueError("no JSON object in the answer")
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"answer is not valid JSON: {exc.msg}") from exc
    if not isinstance(obj, dict):
        raise ValueError("answer is not a JSON object")
    action = obj.get("action")
    if action not in ("move", "stop"):
        raise ValueError(f"action must be 'move' or 'stop', got {action!r}")
    place = obj.get("place", current if action == "stop" else None)
    if isinstance(place, str) and (m := re.fullmatch(r"\s*(?:place\s*)?(\d+)\s*", place, re.I)):
        place = int(m.group(1))
    if isinstance(place, bool) or not isinstance(place, int):
        raise ValueError(f"place must be a place number, got {place!r}")
    if action == "move" and place not in moves:
        raise ValueError(f"place {place} is not one of the places you can move to {moves}")
    plan = obj.get("plan", "")
    plan = plan if isinstance(plan, str) else json.dumps(plan)
    return Choice(action, current if action == "stop" else place, plan[:MAX_PLAN_CHARS], text)


def build_prompt(instruction: str, map_text: str, plan: str, suggestion: str,
                 moves: list[int], current: int) -> str:
    places = ", ".join(str(m) for m in moves) or "none"
    return (f"Instruction: {instruction.strip()}\n\n{map_text}\n\n"
            f"Current plan: {plan}\nRule-based suggestion: {suggestion}\n\n"
            f"You are at Place {current}. You can move to Places {places}, or stop.\n"
            "Answer with the JSON object only.")


class HttpChatBackend:
    """OpenAI-compatible chat endpoint (``base_url`` like ``http://localhost:8000/v1``)."""

    name = "http"

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 api_key_env: str = "IFAGENT_LLM_API_KEY", timeout_s: float = 30.0,
                 retries: int = 2, max_tokens: int = 200) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"LLM base URL must start with http:// or https://: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key or os.environ.get(api_key_env) or os.environ.get(
            "OPENAI_API_KEY", "")
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_tokens = max_tokens
        self.use_schema = True
        self.last_errors: list[str] = []

    def _post(self, messages: list[dict], schema: dict) -> str:
        body: dict = {"model": self.model, "messages": messages, "temperature": 0.0,
                      "max_tokens": self.max_tokens}
        if self.use_schema:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "nav_action", "schema": schema, "strict": True}}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(f"{self.base_url}/chat/completions",
                                     data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                reply = json.loads(resp.read().decode())
        except urllib.error.HTTPError as exc:
            if exc.code == 400 and self.use_schema:
                self.use_schema = False  # server does not take response_format: prompt only
                return self._post(messages, schema)
            raise
        try:
            return str(reply["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError("reply has no choices[0].message.content") from exc

    def choose(self, system: str, prompt: str, moves: list[int], current: int
               ) -> Choice | None:
        schema = answer_schema(moves, current)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        self.last_errors = []
        for _ in range(1 + self.retries):
            try:
                text = self._post(messages, schema)
            except (urllib.error.URLError, OSError, ValueError, json.JSONDecodeError) as exc:
                self.last_errors.append(f"request failed: {exc}")
                continue
            try:
                return parse_answer(text, moves, current)
            except ValueError as exc:
                self.last_errors.append(str(exc))
                messages = [*messages, {"role": "assistant", "content": text[:500]},
                            {"role": "user", "content": f"Invalid answer: {exc}. Answer again "
                             "with the JSON object only."}]
        return None


class TransformersBackend:
    """Local causal LM; action and place by scoring every valid answer prefix."""

    name = "transformers"

    def __init__(self, path: str | None = None, model=None, tokenizer=None,
                 plan_tokens: int = 24, device: str = "cpu") -> None:
        import torch

        if model is None or tokenizer is None:
            if not path or not os.path.isdir(path):
                raise FileNotFoundError(f"local LLM folder not found: {path!r}")
            from transformers import AutoModelForCausalLM, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path)
        self.torch = torch
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = device
        self.plan_tokens = plan_tokens
        cfg = model.config
        self.context = int(getattr(cfg, "max_position_embeddings", None)
                           or getattr(cfg, "n_positions", 1024))

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _logprobs(self, prefix: list[int], options: list[list[int]]) -> list[float]:
        torch = self.torch
        longest = max(len(o) for o in options)
        prefix = prefix[-max(1, self.context - longest - self.plan_tokens - 1):]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        rows = [prefix + o + [pad] * (longest - len(o)) for o in options]
        mask = [[1] * (len(prefix) + len(o)) + [0] * (longest - len(o)) for o in options]
        with torch.no_grad():
            logits = self.model(input_ids=torch.tensor(rows, device=self.device),
                                attention_mask=torch.tensor(mask, device=self.device)).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        scores = []
        for k, o in enumerate(options):
            pos = torch.arange(len(prefix) - 1, len(prefix) - 1 + len(o), device=self.device)
            tok = torch.tensor(o, device=self.device)
            scores.append(float(logp[k, pos, tok].sum()))
        return scores

    def _greedy(self, ids: list[int], n: int) -> str:
        torch = self.torch
        out: list[int] = []
        ids = ids[-max(1, self.context - n - 1):]
        with torch.no_grad():
            for _ in range(n):
                logits = self.model(input_ids=torch.tensor([ids + out], device=self.device)).logits
                out.append(int(logits[0, -1].argmax()))
                text = self.tokenizer.decode(out)
                if '"' in text or "\n" in text:
                    break
        return self.tokenizer.decode(out)

    def choose(self, system: str, prompt: str, moves: list[int], current: int
               ) -> Choice | None:
        prefix = self._ids(f"{system}\n\n{prompt}\nAnswer: ")
        answers = [("move", m) for m in moves] + [("stop", current)]
        heads = [f'{{"action": "{a}", "place": {p}, "plan": "' for a, p in answers]
        scores = self._logprobs(prefix, [self._ids(h) for h in heads])
        best = max(range(len(answers)), key=lambda k: scores[k])
        plan = self._greedy(prefix + self._ids(heads[best]), self.plan_tokens)
        plan = re.sub(r"[^\w .,;:'()\-]", "", plan.split('"')[0])[:MAX_PLAN_CHARS].strip()
        text = heads[best] + json.dumps(plan)[1:] + "}"
        return parse_answer(text, moves, current)


class LLMPlanner:
    """:class:`~ifagent_ros.core.vln.types.Planner` asking an LLM backend each step.

    The rule planner runs alongside: it keeps the map, the sub-goals and the plan, supplies the
    suggestion in the prompt and is the fallback (with the reason) when the backend gives no
    valid answer. Moves are only ever to current neighbours.
    """

    name = "llm"

    def __init__(self, backend: ChoiceBackend, rules=None, max_moves: int = 15) -> None:
        from ifagent_ros.core.vln.planner import RulePlanner

        self.backend = backend
        self.rules = rules or RulePlanner()
        self.max_moves = max_moves
        self.instruction = ""
        self.moves = 0
        self.fallbacks = 0

    @classmethod
    def from_options(cls, options) -> LLMPlanner:
        """An HTTP backend (``llm_url`` + ``llm_model``) or a local one (``llm_path``)."""
        if options.llm_url:
            if not options.llm_model:
                raise ValueError("planner 'llm' at an llm url needs an llm model name")
            backend: ChoiceBackend = HttpChatBackend(options.llm_url, options.llm_model,
                                                     api_key=options.llm_api_key)
        elif options.llm_path:
            backend = TransformersBackend(path=options.llm_path)
        else:
            raise ValueError("planner 'llm' needs an llm url (+ model) or an llm path")
        if options.max_moves is None:
            return cls(backend)
        return cls(backend, max_moves=options.max_moves)

    def reset(self, instruction: str, observation) -> None:
        self.instruction = instruction or ""
        self.moves = 0
        self.rules.reset(self.instruction, observation)

    def act(self, observation):
        from ifagent_ros.core.vln.types import NavDecision

        suggestion = self.rules.act(observation)  # also updates the map and the plan
        if not observation.neighbours or not self.instruction.strip():
            return suggestion
        if self.moves >= self.max_moves:
            return NavDecision("stop", subgoal=suggestion.subgoal,
                               reason=f"move limit {self.max_moves}")
        tmap = self.rules.map
        current = tmap.index(observation.place_id)
        by_index = {tmap.index(n.place_id): n.place_id for n in observation.neighbours}
        moves = sorted(by_index)
        hint = (f"move to Place {tmap.index(suggestion.target)}" if suggestion.action == "move"
                else "stop") + f" ({suggestion.reason})"
        prompt = build_prompt(self.instruction, tmap.to_text(observation.place_id,
                                                             observation.heading),
                              self.rules.plan_text(), hint, moves, current)
        try:
            choice = self.backend.choose(SYSTEM_PROMPT, prompt, moves, current)
        except Exception as exc:  # noqa: BLE001 - any backend failure falls back to the rules
            log.warning("LLM backend %s failed: %s", self.backend.name, exc)
            choice = None
        if choice is None:
            self.fallbacks += 1
            errors = "; ".join(getattr(self.backend, "last_errors", []) or ["no valid answer"])
            if suggestion.action == "move":
                self.moves += 1
            return NavDecision(suggestion.action, suggestion.target, suggestion.subgoal,
                               f"LLM fallback to rule planner ({errors}): {suggestion.reason}",
                               {**suggestion.extras, "fallback": True})
        extras = {"plan": choice.plan, "rule_suggestion": hint, "llm": self.backend.name}
        if choice.action == "stop":
            return NavDecision("stop", subgoal=suggestion.subgoal,
                               reason=f"LLM chose to stop: {choice.plan}", extras=extras)
        self.moves += 1
        return NavDecision("move", target=by_index[choice.place], subgoal=suggestion.subgoal,
                           reason=f"LLM chose Place {choice.place}", extras=extras)

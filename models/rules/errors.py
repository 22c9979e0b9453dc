"""Rule breaches: one error type each, with a message a person can act on (id and en)."""

from __future__ import annotations


class RuleError(Exception):
    """Base of every rule breach; `message(lang)` is what a person reads."""

    def __init__(self, id_text: str, en_text: str | None = None) -> None:
        super().__init__(id_text)
        self.id_text = id_text
        self.en_text = en_text or id_text

    def message(self, lang: str = "id") -> str:
        return self.en_text if lang == "en" else self.id_text


class InvalidTransition(RuleError):
    """A wrong-state action (HTTP 409): names the state the thing is in."""

    def __init__(self, entity: str, current: str, target: str, id_text: str, en_text: str) -> None:
        super().__init__(id_text, en_text)
        self.entity, self.current, self.target = entity, current, target


class IncompleteSkp(RuleError):
    """Submitting an SKP that misses something (HTTP 422): lists every missing piece."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(
            "SKP belum lengkap: " + "; ".join(p[0] for p in problems),
            "The SKP is incomplete: " + "; ".join(p[1] for p in problems),
        )


class InvalidInput(RuleError):
    """Bad input (HTTP 422)."""


class LinkRejected(RuleError):
    """A task link that is not valid for this person and task (HTTP 403)."""

    def __init__(self, reason: str, id_text: str, en_text: str) -> None:
        super().__init__(id_text, en_text)
        self.reason = reason  # tampered | expired | not_yours


class Forbidden(RuleError):
    """Logged in, but this role or unit scope may not do this (HTTP 403)."""

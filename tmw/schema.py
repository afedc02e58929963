"""What the API schema says about every operation's answers, beyond the serializers of its successes.

Every error the API gives has one shape, ``{"message": str, "extra": {...}}`` (``tmw.api.exception_handler``);
``AutoSchema`` documents it for each status an operation can answer:

- 401 and 403 where the view authenticates or guards its door (a missing or bad token, a role the policy
  refuses, a service's own ``policy.require``);
- 404 for detail routes (a path parameter) and paginated lists (a page past the end);
- 400 for writes (a business rule's ``ApplicationError``) and operations that read a body, query or headers;
- 409 for POST operations behind the door (a state transition or a duplicate the services refuse);
- 415 for operations that read a body (a body in a media type the parsers do not read);
- 429 for throttled views.

Every operation also gets a summary (its ``extend_schema`` one, else its docstring's first line, else one made
from the route, e.g. "Change an event") and a description that ends by saying who may call it: the roles the
policy table lists for the action the view declares (``access``), and that action's name.

``postprocess`` fixes what drf-spectacular says for every schema alike: a time of day is DRF's ISO 8601
``HH:MM[:SS[.ffffff]]`` without an offset, which is not JSON Schema's ``time`` format (RFC 3339 needs one).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny

from tmw.accounts import policy
from tmw.accounts.models import Role
from tmw.accounts.permissions import action_for

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: ``extra`` names the fields and their messages.",
    "401": "No credentials, or credentials that are not valid.",
    "403": "This role may not take this action.",
    "404": "Not found, or not visible to this user.",
    "409": "The object's current state does not allow this.",
    "415": "The body is in a media type this operation does not read.",
    "429": "Too many requests; try again later.",
}

# DRF's TimeField answers ``value.isoformat()`` and reads the same (seconds and microseconds optional).
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "message": serializers.CharField(help_text="What went wrong, for a person."),
        "extra": serializers.DictField(help_text="Details: messages by field, or other facts about the refusal."),
    },
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the error answers every operation can give, in the one error shape."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self.error_statuses(operation):
            if status not in responses:
                responses[status] = self._error_response(status)
        operation["responses"] = dict(sorted(responses.items()))
        # After the description, whether from a docstring or extend_schema (which replaces get_description).
        who = self.who_may_call()
        text = str(operation.get("description") or "").strip()
        if who and "Who may call it" not in text:
            operation["description"] = f"{text}\n\n{who}" if text else who
        if not operation.get("summary"):
            summary = self.get_summary()
            if summary:
                operation["summary"] = summary
        return operation

    def _view_action(self) -> str:
        return getattr(self.view, "action", None) or self.method.lower()

    def _thing(self) -> str:
        return str(getattr(self.view, "basename", "") or "").replace("-", " ").replace("_", " ")

    def get_summary(self) -> str | None:
        summary = super().get_summary()
        if summary:
            return summary
        action = self._view_action()
        thing = self._thing()
        method = getattr(self.view, action, None)
        own_doc = (getattr(method, "__doc__", None) or "").strip() if action not in DEFAULT_ACTIONS else ""
        if own_doc:
            return own_doc.splitlines()[0].rstrip(".")
        if thing and action in DEFAULT_ACTIONS:
            verb, plural = DEFAULT_ACTIONS[action]
            return f"{verb} {thing}s" if plural else f"{verb} {_article(thing)} {thing}"
        if thing:
            return f"{action.replace('_', ' ').capitalize()} {_article(thing)} {thing}"
        doc = (self.view.__class__.__doc__ or "").strip()
        return doc.splitlines()[0].rstrip(".") if doc else None

    def who_may_call(self) -> str:
        """ "Who may call it: ..." from the view's declared action and the policy table."""
        if all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            return "Who may call it: anyone, without a login."
        action = action_for(getattr(self.view, "access", None), self.method, getattr(self.view, "action", None))
        if action is None:
            return ""
        labels = [str(Role(role).label) for role in Role.values if role in policy.roles_for(action)]
        return f"Who may call it: {', '.join(labels) or 'no role'} (policy action `{action}`)."

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        """The error statuses this operation can answer."""
        statuses = []
        authenticates = bool(self.view.get_authenticators())
        guarded = not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if authenticates:
            statuses.append("401")
        if authenticates or guarded:
            statuses.append("403")
        parameters = operation.get("parameters", [])
        if any(parameter["in"] == "path" for parameter in parameters) or (
            self._is_list_view() and self._get_paginator() is not None
        ):
            statuses.append("404")
        if (
            self.method not in SAFE_METHODS
            or "requestBody" in operation
            or any(parameter["in"] in ("query", "header") for parameter in parameters)
        ):
            statuses.append("400")
        if "requestBody" in operation:
            statuses.append("415")
        if self.method == "POST" and (authenticates or guarded):
            statuses.append("409")
        if self.view.get_throttles():
            statuses.append("429")
        return statuses

    def _error_response(self, status: str) -> dict[str, Any]:
        response = self._get_response_for_code(ErrorSerializer, status)
        response["description"] = ERROR_DESCRIPTIONS[status]
        return response


# Viewset actions whose summary is made from the route: (verb, whether it names many).
DEFAULT_ACTIONS = {
    "list": ("List", True),
    "retrieve": ("Read", False),
    "create": ("Create", False),
    "update": ("Replace", False),
    "partial_update": ("Change", False),
    "destroy": ("Delete", False),
}


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.setdefault("pattern", TIME_PATTERN)
            node.setdefault("example", "13:30:00")
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: times of day as DRF writes and reads them."""
    _walk(result)
    return result

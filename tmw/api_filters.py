"""Filters on lists, in the API and on pages: a query parameter that should hold an id or a whole number
and holds something else (letters, "-9.83e+34", a number larger than any id) is a 400 naming it.

Kept apart from ``tmw.api`` (which re-exports it) because REST framework reads
``DEFAULT_FILTER_BACKENDS`` while ``tmw.api`` is still importing its base views.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework import exceptions

from tmw.web import bounded_int

NOT_AN_ID = "Give a whole number (an id) within range."


def _is_integer_filter(filterset_model: type[models.Model] | None, flt: django_filters.Filter) -> bool:
    """Whether ``flt`` compares a whole-number column (an id, a foreign key, a count)."""
    kinds = django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter | django_filters.NumberFilter
    if not isinstance(flt, kinds):
        return False
    if filterset_model is None or not isinstance(flt.field_name, str):
        return False
    try:
        field = get_model_field(filterset_model, flt.field_name)
    except FieldDoesNotExist:
        return False
    if field is None:
        return False
    if isinstance(field, models.ForeignObjectRel):
        field = field.remote_field.model._meta.pk  # the other side's ids
    elif field.is_relation and getattr(field, "target_field", None) is not None:
        to_field = getattr(flt, "extra", {}).get("to_field_name")
        field = field.target_field if not to_field else field.related_model._meta.get_field(to_field)
    return isinstance(field, models.IntegerField | models.AutoField)


def integer_filter_errors(filterset: django_filters.FilterSet) -> dict[str, list[str]]:
    """The query parameters that should hold an id or a whole number and hold something else (or too large)."""
    errors: dict[str, list[str]] = {}
    data = filterset.data
    if not hasattr(data, "getlist"):
        return errors
    for name, flt in filterset.filters.items():
        if not _is_integer_filter(filterset._meta.model, flt):
            continue
        values: list[str] = []
        for raw in data.getlist(name):
            values.extend(raw.split(",") if isinstance(flt, django_filters.filters.BaseCSVFilter) else [raw])
        if any(v.strip() and bounded_int(v) is None for v in values):
            errors[name] = [NOT_AN_ID]
    return errors


class FilterSet(django_filters.FilterSet):
    """The project's filter sets: an id or a whole number that is not one (or too large) is a form error.

    The bad value never reaches the field (nor the database): the form sees the parameter as absent and
    reports the error on it, so ``filterset.qs`` ignores it and ``filterset.errors`` names it.
    """

    def get_form_class(self):
        base = super().get_form_class()
        filterset = self

        class Form(base):  # type: ignore[misc,valid-type]  # built per filter set, as django-filter does
            def full_clean(self) -> None:
                problems = integer_filter_errors(filterset)
                data: Any = getattr(self, "data", None)
                if problems and hasattr(data, "copy"):
                    data = data.copy()
                    for name in problems:
                        data.pop(name, None)
                    self.data = data
                super().full_clean()
                for name, messages in problems.items():
                    self.add_error(name if name in self.fields else None, messages)

        Form.__name__ = base.__name__
        return Form


class FilterBackend(DjangoFilterBackend):
    """django-filter on API lists: ``?vendor=abc`` or ``?vendor=99999999999999999999`` is a 400 naming the field.

    Filter sets built from ``filterset_fields`` use the project ``FilterSet``; the same check runs on
    every view's own ``filterset_class`` too.
    """

    filterset_base = FilterSet

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = integer_filter_errors(filterset)
            if errors:
                raise exceptions.ValidationError(errors)
        return filterset

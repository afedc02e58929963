"""The API schema says what the commissions endpoints answer: nullable fields and the error statuses of writes."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator


def test_the_schema_matches_the_answers():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert components["Agreement"]["properties"]["stop_date"]["nullable"] is True
    assert components["Statement"]["properties"]["credit_note_for"]["nullable"] is True
    writes = {
        ("/api/v1/revenue-reports/", "post"): {"201", "400", "403", "404", "409"},
        ("/api/v1/statements/{id}/approve/", "post"): {"200", "403", "404", "409"},
        ("/api/v1/statements/{id}/issue/", "post"): {"200", "403", "404", "409"},
        ("/api/v1/statements/{id}/mark-paid/", "post"): {"200", "400", "403", "404", "409"},
        ("/api/v1/statements/{id}/void/", "post"): {"201", "400", "403", "404", "409"},
    }
    for (path, method), codes in writes.items():
        responses = schema["paths"][path][method]["responses"]
        assert codes <= set(responses), path  # tmw.schema adds what every operation can answer (401, 415)
        for code in codes - {"200", "201"}:
            assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/CommissionsError")

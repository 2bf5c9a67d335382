from __future__ import annotations

import pytest

from qvickly_async import exceptions as exc
from qvickly_async._error_codes import ERROR_CODES, ErrorCategory, exception_class_for


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (9010, exc.QvicklyAuthenticationError),
        (9011, exc.QvicklyAuthenticationError),
        (9013, exc.QvicklyAuthenticationError),
        (5001, exc.QvicklyAccountFeatureError),
        (8705, exc.QvicklyAccountFeatureError),
        (2401, exc.QvicklyValidationError),
        (7020, exc.QvicklyValidationError),
        (9003, exc.QvicklyValidationError),
        (5201, exc.QvicklyNotFoundError),
        (9001, exc.QvicklyNotFoundError),
        (5220, exc.QvicklyStateError),
        (1001, exc.QvicklyStateError),
        (9008, exc.QvicklyTransientError),
        (5291, exc.QvicklyTransientError),
        (9120, exc.QvicklyAPIError),
        (4242424, exc.QvicklyAPIError),
    ],
)
def test_classification(code: int, cls: type[exc.QvicklyAPIError]) -> None:
    assert exception_class_for(code) is cls


def test_table_is_complete_and_consistent() -> None:
    assert len(ERROR_CODES) > 200
    for code, entry in ERROR_CODES.items():
        assert entry.code == code
        assert entry.message.strip() == entry.message
        assert entry.message
        assert issubclass(exception_class_for(code), exc.QvicklyAPIError)
    categories = {entry.category for entry in ERROR_CODES.values()}
    assert categories == set(ErrorCategory)


def test_api_error_attributes_and_text() -> None:
    error = exc.QvicklyNotFoundError("Faktura saknas", code=5201, logid="77", function="getX")
    assert (error.code, error.message, error.logid, error.function) == (
        5201,
        "Faktura saknas",
        "77",
        "getX",
    )
    assert str(error) == "getX failed with Qvickly error 5201: Faktura saknas (logid 77)"
    assert isinstance(error, exc.QvicklyError)


@pytest.mark.parametrize(
    "error",
    [
        exc.QvicklyNotFoundError("Faktura saknas", code=5201, logid="77", function="getX"),
        exc.QvicklyRateLimitError("slow", function="getX", retry_after=3.0, body_excerpt="b"),
        exc.QvicklyConnectionError("reset", function="addPayment", request_sent=True),
        exc.QvicklyDecodeError("bad", function="getX", path="invoices[1].x", transient=True),
        exc.QvicklyInputError("blank"),
    ],
)
def test_errors_survive_pickling(error: exc.QvicklyError) -> None:
    import pickle

    error.add_note("gave up after 3 attempts")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__

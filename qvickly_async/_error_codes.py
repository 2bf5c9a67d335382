"""The documented Payment API error codes, their messages and how the SDK classifies them.

This table is the single source for :func:`exception_class_for`, the sandbox's error messages
and the error catalogue in the documentation. Messages are Qvickly's English texts, restated;
the live server may answer in Swedish.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from . import exceptions as exc

__all__ = ["ERROR_CODES", "ErrorCategory", "ErrorCode", "exception_class_for"]


class ErrorCategory(enum.Enum):
    """How the SDK treats a Payment API error code."""

    AUTHENTICATION = "authentication"
    ACCOUNT_FEATURE = "account_feature"
    VALIDATION = "validation"
    NOT_FOUND = "not_found"
    STATE = "state"
    TRANSIENT = "transient"
    OTHER = "other"
    CLIENT = "client"


@attrs.frozen
class ErrorCode:
    """One documented error code."""

    code: int
    message: str
    category: ErrorCategory


_CATEGORY_CLASSES: Mapping[ErrorCategory, type[exc.QvicklyAPIError]] = {
    ErrorCategory.AUTHENTICATION: exc.QvicklyAuthenticationError,
    ErrorCategory.ACCOUNT_FEATURE: exc.QvicklyAccountFeatureError,
    ErrorCategory.VALIDATION: exc.QvicklyValidationError,
    ErrorCategory.NOT_FOUND: exc.QvicklyNotFoundError,
    ErrorCategory.STATE: exc.QvicklyStateError,
    ErrorCategory.TRANSIENT: exc.QvicklyTransientError,
    ErrorCategory.OTHER: exc.QvicklyAPIError,
    ErrorCategory.CLIENT: exc.QvicklyAPIError,
}

_TABLE = (
    ErrorCode(1001, "Credit denied for Personal/Organisationnumber", ErrorCategory.STATE),
    ErrorCode(2203, "Email is invalid", ErrorCategory.VALIDATION),
    ErrorCode(2204, "Please check and try again", ErrorCategory.VALIDATION),
    ErrorCode(2207, "Rejected test person number", ErrorCategory.VALIDATION),
    ErrorCode(2401, "Firstname does not match", ErrorCategory.VALIDATION),
    ErrorCode(2402, "Lastname does not match", ErrorCategory.VALIDATION),
    ErrorCode(2403, "Street does not match", ErrorCategory.VALIDATION),
    ErrorCode(2404, "Zip does not match", ErrorCategory.VALIDATION),
    ErrorCode(2405, "City does not match", ErrorCategory.VALIDATION),
    ErrorCode(2406, "Country does not match", ErrorCategory.VALIDATION),
    ErrorCode(2501, "Phone number is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(
        2551, "Pricelist variable is not enabled in API request", ErrorCategory.ACCOUNT_FEATURE
    ),
    ErrorCode(2552, "Pricelist variable is invalid", ErrorCategory.VALIDATION),
    ErrorCode(2553, "The date format is wrong", ErrorCategory.VALIDATION),
    ErrorCode(2554, "The due date have expired for payment", ErrorCategory.VALIDATION),
    ErrorCode(4100, "Recurring number is not found", ErrorCategory.NOT_FOUND),
    ErrorCode(
        4102,
        "We were not able to debit the card. Please try again later or contact billmate support",
        ErrorCategory.TRANSIENT,
    ),
    ErrorCode(4103, "Debiting the recurring payment is failed", ErrorCategory.OTHER),
    ErrorCode(5000, "Invalid method", ErrorCategory.VALIDATION),
    ErrorCode(5001, "Factoring not activated for this account", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5002, "Handling not activated", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5003, "Partpay not activated", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5004, "Card not activated", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5005, "Bank not activated", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5006, "Cash not activated", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5007, "Amount is over max limit", ErrorCategory.VALIDATION),
    ErrorCode(5008, "Amount is under min limit", ErrorCategory.VALIDATION),
    ErrorCode(5014, "QuickPayment for Card not activated", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5050, "Invalid QuickPayment is provided", ErrorCategory.VALIDATION),
    ErrorCode(
        5051,
        "Something went wrong with QuickPayment, please try again later",
        ErrorCategory.TRANSIENT,
    ),
    ErrorCode(
        5101,
        "Plugin does not support BankID verification required by account",
        ErrorCategory.ACCOUNT_FEATURE,
    ),
    ErrorCode(5102, "… required by credit check", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5103, "BankID verification required by quick payment", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(5198, "Payment number is invalid", ErrorCategory.VALIDATION),
    ErrorCode(5199, "Invoice with the id provided does already exist", ErrorCategory.STATE),
    ErrorCode(5200, "Payment number is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(5201, "Invoice does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(5202, "Invalid status of payment", ErrorCategory.STATE),
    ErrorCode(5203, "Order id is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(5204, "Cannot credit more than balance due", ErrorCategory.STATE),
    ErrorCode(5205, "Cannot credit a created invoice or part payment invoice", ErrorCategory.STATE),
    ErrorCode(
        5206,
        "Could not activate Factoring invoice; person number denied in credit check",
        ErrorCategory.STATE,
    ),
    ErrorCode(5207, "Method is unknown", ErrorCategory.VALIDATION),
    ErrorCode(5208, "Unable to activate a non created invoice", ErrorCategory.STATE),
    ErrorCode(5209, "Unable to cancel a sent invoice", ErrorCategory.STATE),
    ErrorCode(5210, "Cannot activate a cancelled invoice", ErrorCategory.STATE),
    ErrorCode(5211, "Cannot credit a cancelled invoice", ErrorCategory.STATE),
    ErrorCode(5212, "Cannot credit a credit invoice", ErrorCategory.STATE),
    ErrorCode(5213, "Amount too high; cannot credit more than balance due", ErrorCategory.STATE),
    ErrorCode(5214, "… more than the original payment", ErrorCategory.STATE),
    ErrorCode(5215, "Payment not updated; cannot exceed original value", ErrorCategory.STATE),
    ErrorCode(5216, "You can not update a bank payment", ErrorCategory.STATE),
    ErrorCode(5217, "Required meta information is missing", ErrorCategory.VALIDATION),
    ErrorCode(5218, "Cannot credit a paid invoice", ErrorCategory.STATE),
    ErrorCode(5219, "Error has returned while crediting:", ErrorCategory.OTHER),
    ErrorCode(5220, "Can not cancel an already cancelled payment", ErrorCategory.STATE),
    ErrorCode(
        5221,
        "Can not activate a payment related to a test person in live mode",
        ErrorCategory.STATE,
    ),
    ErrorCode(5222, "Your account needs to be activated by Billmate", ErrorCategory.AUTHENTICATION),
    ErrorCode(5223, "Cannot activate a credit invoice", ErrorCategory.STATE),
    ErrorCode(5224, "Swedbankpay key is not found", ErrorCategory.NOT_FOUND),
    ErrorCode(5250, "Split: negative value in delivered", ErrorCategory.VALIDATION),
    ErrorCode(5251, "Split: need a value on at least one item", ErrorCategory.VALIDATION),
    ErrorCode(5252, "Split: amount too high for at least one article", ErrorCategory.VALIDATION),
    ErrorCode(5253, "Split: can not make a full invoice split", ErrorCategory.VALIDATION),
    ErrorCode(5260, "Error when activating the card payment", ErrorCategory.TRANSIENT),
    ErrorCode(5261, "Error when cancelling the card payment", ErrorCategory.TRANSIENT),
    ErrorCode(
        5290,
        "Credit failed: Could not refund payment. Please try again later",
        ErrorCategory.TRANSIENT,
    ),
    ErrorCode(
        5291,
        "Credit failed: Could not refund payment. Please try again later",
        ErrorCategory.TRANSIENT,
    ),
    ErrorCode(
        5292,
        "Credit failed: Could not refund payment. Please try again later",
        ErrorCategory.TRANSIENT,
    ),
    ErrorCode(5297, "Refunding can not be made; contact support", ErrorCategory.OTHER),
    ErrorCode(5298, "Batch could not be created; contact support", ErrorCategory.OTHER),
    ErrorCode(5301, "No payment plans found", ErrorCategory.NOT_FOUND),
    ErrorCode(5302, "Currency, Country and Language are mandatory", ErrorCategory.VALIDATION),
    ErrorCode(6009, "Order id can not be empty", ErrorCategory.VALIDATION),
    ErrorCode(6010, "Hash does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(6011, "Invoice does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(6012, "Currency has to be SEK", ErrorCategory.VALIDATION),
    ErrorCode(6021, "Cancel URL was empty", ErrorCategory.VALIDATION),
    ErrorCode(6022, "Payment is already paid", ErrorCategory.STATE),
    ErrorCode(6023, "Currency is not supported", ErrorCategory.VALIDATION),
    ErrorCode(6024, "Accept URL was invalid", ErrorCategory.VALIDATION),
    ErrorCode(6025, "Callback URL was invalid", ErrorCategory.VALIDATION),
    ErrorCode(6026, "Cancel URL was invalid", ErrorCategory.VALIDATION),
    ErrorCode(6027, "Accept URL was empty", ErrorCategory.VALIDATION),
    ErrorCode(6028, "Store terms URL was invalid", ErrorCategory.VALIDATION),
    ErrorCode(6029, "Store Privacy Policy URL is invalid", ErrorCategory.VALIDATION),
    ErrorCode(6030, "Something went wrong: Invalid key", ErrorCategory.AUTHENTICATION),
    ErrorCode(6031, "BankID: Key can not be found", ErrorCategory.NOT_FOUND),
    ErrorCode(6032, "Swish: Hash is invalid", ErrorCategory.VALIDATION),
    ErrorCode(6033, "Swish: EID is invalid", ErrorCategory.VALIDATION),
    ErrorCode(6034, "Swish: External error", ErrorCategory.TRANSIENT),
    ErrorCode(6035, "Billing address", ErrorCategory.VALIDATION),
    ErrorCode(6036, "Method 512 is not enabled on your account", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(6501, "Authentication failed", ErrorCategory.AUTHENTICATION),
    ErrorCode(6502, "Unknown state from card provider", ErrorCategory.TRANSIENT),
    ErrorCode(6503, "The merchant is not found with the given payment id", ErrorCategory.NOT_FOUND),
    ErrorCode(6504, "Payment data is not found", ErrorCategory.NOT_FOUND),
    ErrorCode(6661, "Invalid token", ErrorCategory.AUTHENTICATION),
    ErrorCode(6662, "Invalid hash", ErrorCategory.AUTHENTICATION),
    ErrorCode(6663, "Invalid company signer pno", ErrorCategory.VALIDATION),
    ErrorCode(6664, "Auth person does not match the pno of invoice", ErrorCategory.VALIDATION),
    ErrorCode(6665, "Bankid session could not be generated", ErrorCategory.TRANSIENT),
    ErrorCode(6666, "Missing token", ErrorCategory.AUTHENTICATION),
    ErrorCode(7010, "Name can not be empty", ErrorCategory.VALIDATION),
    ErrorCode(7015, "New password is empty", ErrorCategory.VALIDATION),
    ErrorCode(7020, "Customer No/Number can not be empty", ErrorCategory.VALIDATION),
    ErrorCode(7022, "Status not correct", ErrorCategory.VALIDATION),
    ErrorCode(7030, "Method does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(7031, "Country does not exist (ISO)", ErrorCategory.VALIDATION),
    ErrorCode(7032, "Country is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(7033, "Paymentplanid is required", ErrorCategory.VALIDATION),
    ErrorCode(
        8010, "Personal/Organisation number can not be found in the system", ErrorCategory.NOT_FOUND
    ),
    ErrorCode(8011, "Organisation number can not be found", ErrorCategory.NOT_FOUND),
    ErrorCode(8012, "Personal number can not be found", ErrorCategory.NOT_FOUND),
    ErrorCode(8701, "Subscription number does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(8702, "Subscription could not be found", ErrorCategory.NOT_FOUND),
    ErrorCode(8705, "You can not use this function in test mode", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(8706, "Invalid invoicinginterval", ErrorCategory.VALIDATION),
    ErrorCode(8800, "The payment was already paused", ErrorCategory.STATE),
    ErrorCode(8801, "The payment was not paused", ErrorCategory.STATE),
    ErrorCode(8900, "Swedbankpay error", ErrorCategory.TRANSIENT),
    ErrorCode(9001, "The method that you are calling does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(9002, "The method is not defined in REST API", ErrorCategory.NOT_FOUND),
    ErrorCode(
        9003,
        "The function name is required (check Content-Type/Content-Length)",
        ErrorCategory.VALIDATION,
    ),
    ErrorCode(9004, "Some mandatory parameters are missing", ErrorCategory.VALIDATION),
    ErrorCode(9005, "Please make sure that your request is valid", ErrorCategory.VALIDATION),
    ErrorCode(9008, "Internal server error. Please try again!", ErrorCategory.TRANSIENT),
    ErrorCode(9009, "Request is invalid", ErrorCategory.VALIDATION),
    ErrorCode(9010, "ID and MAC are required", ErrorCategory.AUTHENTICATION),
    ErrorCode(9011, "Invalid credentials", ErrorCategory.AUTHENTICATION),
    ErrorCode(9012, "Account does not have a valid invoice module", ErrorCategory.AUTHENTICATION),
    ErrorCode(
        9013,
        "Authentication is failed. Please double check the key and the EID",
        ErrorCategory.AUTHENTICATION,
    ),
    ErrorCode(9014, "Personal/Organisation number is required", ErrorCategory.VALIDATION),
    ErrorCode(9015, "… shorter than expected", ErrorCategory.VALIDATION),
    ErrorCode(9016, "… is not valid", ErrorCategory.VALIDATION),
    ErrorCode(9020, "Redirection request is invalid", ErrorCategory.VALIDATION),
    ErrorCode(
        9090,
        "Client side: response credentials hash does not match the expected hash",
        ErrorCategory.CLIENT,
    ),
    ErrorCode(9102, "Amount does not match with calculated total", ErrorCategory.VALIDATION),
    ErrorCode(
        9103, "Currency, language, country and order id are mandatory", ErrorCategory.VALIDATION
    ),
    ErrorCode(9104, "Email is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(9105, "Article without tax is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(
        9106,
        "Total without tax, total with tax and total tax are mandatory",
        ErrorCategory.VALIDATION,
    ),
    ErrorCode(9107, "Total with tax ≠ without tax + tax + rounding", ErrorCategory.VALIDATION),
    ErrorCode(9108, "Paymentplanid is required", ErrorCategory.VALIDATION),
    ErrorCode(9109, "Missing articles", ErrorCategory.VALIDATION),
    ErrorCode(9110, "Invalid paymentplanid", ErrorCategory.VALIDATION),
    ErrorCode(
        9111, "Integer values required for withtax, withouttax, tax", ErrorCategory.VALIDATION
    ),
    ErrorCode(9112, "Article tax rate is mandatory", ErrorCategory.VALIDATION),
    ErrorCode(9113, "Rounding can not be bigger than 50 ore", ErrorCategory.VALIDATION),
    ErrorCode(9114, "Cart summary does not match article summary", ErrorCategory.VALIDATION),
    ErrorCode(9120, "NULL", ErrorCategory.OTHER),
    ErrorCode(9121, "Auto cancel parameter should be numeric", ErrorCategory.VALIDATION),
    ErrorCode(9200, "Email is invalid", ErrorCategory.VALIDATION),
    ErrorCode(9201, "Name is invalid", ErrorCategory.VALIDATION),
    ErrorCode(9510, "Client side: CURL error", ErrorCategory.CLIENT),
    ErrorCode(9511, "Client side: response verification failed", ErrorCategory.CLIENT),
    ErrorCode(9997, "Missing payment plan", ErrorCategory.VALIDATION),
    ErrorCode(9998, "Missing KALP data", ErrorCategory.VALIDATION),
    ErrorCode(9999, "Failed to save KALP", ErrorCategory.TRANSIENT),
    ErrorCode(11111, "Duplicated invoice does not exist", ErrorCategory.NOT_FOUND),
    ErrorCode(11112, "Payment method does not match", ErrorCategory.VALIDATION),
    ErrorCode(20100, "Invalid method", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(20101, "Factoring is disabled for this account", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(20102, "Service is disabled for this account", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(20103, "Company/name, street, zip and city are mandatory", ErrorCategory.VALIDATION),
    ErrorCode(20104, "Invoice and Partpayment is not available", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(
        20616, "The credentials sent from the merchant are invalid", ErrorCategory.AUTHENTICATION
    ),
    ErrorCode(50000, "Checkout: Service is not enabled", ErrorCategory.ACCOUNT_FEATURE),
    ErrorCode(50010, "Checkout: provide a zip code", ErrorCategory.VALIDATION),
    ErrorCode(50011, "Checkout: zipcode does not match the pno", ErrorCategory.VALIDATION),
    ErrorCode(50012, "Checkout: checkout can not be found", ErrorCategory.NOT_FOUND),
    ErrorCode(50013, "UpdateCheckout: checkout can not be found", ErrorCategory.NOT_FOUND),
    ErrorCode(50014, "Checkout: provide the store terms", ErrorCategory.VALIDATION),
    ErrorCode(50015, "Checkout: Hash was empty", ErrorCategory.VALIDATION),
    ErrorCode(50016, "Checkout: Currency is invalid", ErrorCategory.VALIDATION),
    ErrorCode(50017, "Checkout: Country is invalid", ErrorCategory.VALIDATION),
    ErrorCode(50018, "Checkout: Language is invalid", ErrorCategory.VALIDATION),
    ErrorCode(60101, "Mailmate: Something went wrong", ErrorCategory.TRANSIENT),
    ErrorCode(61101, "Fee ID is invalid", ErrorCategory.VALIDATION),
    ErrorCode(61102, "Fee is expired", ErrorCategory.VALIDATION),
    ErrorCode(61103, "Fee country differs from request", ErrorCategory.VALIDATION),
    ErrorCode(61104, "Fee currency differs", ErrorCategory.VALIDATION),
    ErrorCode(61105, "Total amount out of fee range", ErrorCategory.VALIDATION),
    ErrorCode(
        61106, "Unable to credit the fee only when partcredit = false", ErrorCategory.VALIDATION
    ),
    ErrorCode(61107, "Missing feeid in PaymentData (partcredit=true)", ErrorCategory.VALIDATION),
    ErrorCode(61108, "Feeid does not match original", ErrorCategory.VALIDATION),
    ErrorCode(61109, "Crediting fee not possible another time", ErrorCategory.STATE),
    ErrorCode(61110, "Original invoice has no fee but credit has one", ErrorCategory.VALIDATION),
    ErrorCode(61111, "Not allowed", ErrorCategory.VALIDATION),
    ErrorCode(61112, "Not possible to extend a payment that is not activated", ErrorCategory.STATE),
    ErrorCode(61113, "Topay not within extendable amount limit", ErrorCategory.STATE),
    ErrorCode(61114, "Duedate ≥ extendable date", ErrorCategory.STATE),
    ErrorCode(61115, "Extend fee currency mismatch", ErrorCategory.STATE),
    ErrorCode(61116, "Credit action is declared but not defined", ErrorCategory.VALIDATION),
    ErrorCode(61117, "Can not activate a cancelled credit invoice", ErrorCategory.STATE),
    ErrorCode(61118, "Unable to activate a non created credit invoice", ErrorCategory.STATE),
    ErrorCode(70000, "Incorrect mm3customersid", ErrorCategory.VALIDATION),
    ErrorCode(70001, "Incorrect email", ErrorCategory.VALIDATION),
    ErrorCode(70002, "Email already in use", ErrorCategory.VALIDATION),
    ErrorCode(70003, "Password is empty", ErrorCategory.VALIDATION),
    ErrorCode(70004, "Username already exists", ErrorCategory.VALIDATION),
    ErrorCode(70010, "User ID is not defined", ErrorCategory.VALIDATION),
    ErrorCode(70011, "No permission to change the password", ErrorCategory.AUTHENTICATION),
    ErrorCode(70012, "Not correct user", ErrorCategory.AUTHENTICATION),
    ErrorCode(70013, "Old password is incorrect", ErrorCategory.VALIDATION),
    ErrorCode(70014, "New passwords does not match", ErrorCategory.VALIDATION),
    ErrorCode(70015, "New password is empty", ErrorCategory.VALIDATION),
    ErrorCode(500000, "You are not allowed to fetch credentials", ErrorCategory.AUTHENTICATION),
    ErrorCode(500001, "Missing merchant id", ErrorCategory.AUTHENTICATION),
    ErrorCode(500002, "Merchant id not found", ErrorCategory.AUTHENTICATION),
    ErrorCode(500003, "Missing password", ErrorCategory.AUTHENTICATION),
    ErrorCode(500004, "Token has expired", ErrorCategory.AUTHENTICATION),
    ErrorCode(500005, "Username or password is incorrect", ErrorCategory.AUTHENTICATION),
    ErrorCode(500006, "Missing username and pno", ErrorCategory.AUTHENTICATION),
    ErrorCode(500007, "Missing hash", ErrorCategory.AUTHENTICATION),
    ErrorCode(500008, "Hash not found", ErrorCategory.AUTHENTICATION),
)

#: Every documented code, keyed by its number.
ERROR_CODES: Mapping[int, ErrorCode] = MappingProxyType({entry.code: entry for entry in _TABLE})


def exception_class_for(code: int) -> type[exc.QvicklyAPIError]:
    """Return the exception class raised for API error ``code``.

    Unknown codes raise the base :class:`~qvickly_async.exceptions.QvicklyAPIError`, so a
    code Qvickly adds later is still reported with its number and message.
    """
    entry = ERROR_CODES.get(code)
    if entry is None:
        return exc.QvicklyAPIError
    return _CATEGORY_CLASSES[entry.category]

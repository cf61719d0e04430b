"""The contract: schemas/ loaded once, one validator per operation, DRF-style error messages.

Requests are coerced the way DRF's fields coerce them (``"5"`` for an integer, ``"true"`` for a
boolean, numbers for a string, surrounding blanks trimmed), then validated; the first error is
reported the way drf-exceptions-hog reports it. Responses are validated before they leave.
"""

from __future__ import annotations

import copy
import decimal
import json
import re
import uuid
from datetime import date, datetime, time
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

from . import errors
from .catalog import Catalog, Operation

PAGE_SCHEMAS = {"limit_offset": "LimitOffsetPage", "cursor": "CursorPage"}


class FormFile(str):
    """A multipart part sent as a file (it has a filename), as DRF's ``request.data`` holds it:
    beside the form's fields, winning over a field of its name. Its text is the file's name (what
    ``str()`` of Django's upload is); only a field published as ``format: binary`` takes one."""

    content: bytes
    content_type: str

    def __new__(cls, filename: str, content: bytes = b"", content_type: str = "") -> FormFile:
        part = super().__new__(cls, filename)
        part.content, part.content_type = content, content_type
        return part


class FormBody(dict):
    """A form or multipart body as DRF's ``request.data`` holds it (its fields, then its files):
    each key's last value, and in ``lists`` every value of the keys sent more than once (a
    QueryDict's ``getlist``, which DRF's ListField reads)."""

    lists: dict[str, list[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lists = {}


def nest_form_fields(properties: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A form's nested objects as DRF's nested serializers read them (``Serializer.get_value``:
    ``parse_html_dict``): an object field the form sends ``<field>.<key>`` fields for is made of
    them (a form field of its own name is then not read)."""
    if not isinstance(body, FormBody):
        return body
    out = FormBody(body)
    for name, prop in properties.items():
        if name in body and "array" in _types(prop):
            # ListField.get_value: a form's list is every value of its key
            out[name] = list(body.lists.get(name, [body[name]]))
            continue
        if not ("$ref" in prop or "object" in _types(prop)):
            continue
        prefix = f"{name}."
        nested = {key.removeprefix(prefix): value for key, value in out.items() if key.startswith(prefix)}
        if nested:
            out = FormBody(
                (key, value) for key, value in out.items() if key != name and not key.startswith(prefix)
            )
            out[name] = nested
    return out


_TRUE = {"true", "True", "TRUE", "1", "yes", "Yes", "on", "On", "t", "y"}
_FALSE = {"false", "False", "FALSE", "0", "no", "No", "off", "Off", "f", "n"}
# A form's text a nullable BooleanField reads as null: its NULL_VALUES, and a blank field
# (Field.get_value gives allow_null's None for '' from an HTML form).
_FORM_NULL = {"null", "Null", "NULL", ""}
_INTEGER = re.compile(r"^\s*-?\d+(\.0*)?\s*$")
# Python's type names as DRF's messages write them (Django's parser reads a file part into an
# InMemoryUploadedFile).
_PY_TYPE = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    dict: "dict",
    list: "list",
    FormFile: "InMemoryUploadedFile",
}
# drf-spectacular's pattern for a DecimalField: max_digits - decimal_places whole digits, then the places.
_DECIMAL_PATTERN = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")
_DECIMAL_MAX_STRING = 1000  # DecimalField.MAX_STRING_LENGTH


def schemas_dir() -> Path:
    """``schemas/`` beside the package in a checkout, else the copy installed with it."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "schemas"
    return checkout if checkout.is_dir() else here / "schemas"


@cache
def _format_checker() -> FormatChecker:
    """The formats the Python validator checks, as DRF's fields accept them. Python's jsonschema
    is imported only when an error needs wording, which keeps start-up short."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("uuid", raises=ValueError)
    def _is_uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(uuid.UUID(value))

    @checker.checks("date-time", raises=ValueError)
    def _is_datetime(value: object) -> bool:
        return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))

    @checker.checks("date", raises=ValueError)
    def _is_date(value: object) -> bool:
        return not isinstance(value, str) or _is_iso_date(value)

    @checker.checks("time", raises=ValueError)
    def _is_time(value: object) -> bool:
        return not isinstance(value, str) or _is_iso_time(value)

    @checker.checks("email")
    def _is_email(value: object) -> bool:
        return not isinstance(value, str) or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None

    return checker


def _is_iso_time(text: str) -> bool:
    """What DRF's TimeField reads (django's parse_time): ``time.fromisoformat``, else H:M with an
    optional :S and fraction of one or two digits each (an hour past 23 is no time)."""
    try:
        time.fromisoformat(text)
    except ValueError:
        found = re.match(r"(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,6})\d{0,6})?)?$", text)
        if not found:
            raise
        hour, minute, second, fraction = found.groups()
        time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    return True


def _is_iso_date(text: str) -> bool:
    """What DRF's DateField reads (django's parse_date): ``date.fromisoformat``, else
    YYYY-M-D with one- or two-digit month and day."""
    try:
        date.fromisoformat(text)
    except ValueError:
        found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if not found:
            raise
        date(*map(int, found.groups()))
    return True


class Schemas:
    """Every document in schemas/, resolvable by ``$ref`` across files."""

    def __init__(
        self, directory: Path | None = None, derived: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """``derived``: documents that replace the committed ones of the same name (the derived
        families re-derived from a user's PostHog document, ``mockhog.spec.derive``)."""
        directory = directory or schemas_dir()
        self.documents: dict[str, dict[str, Any]] = {}
        for path in sorted(directory.glob("*.json")):
            self.documents[path.name] = json.loads(path.read_text())
        self.documents.update(derived or {})
        self.fast_registry = jsonschema_rs.Registry(list(self.documents.items()))
        self._field_orders: dict[tuple[str, str | None], tuple[str, ...]] = {}

    def has(self, document: str, name: str) -> bool:
        return name in self.documents.get(document, {}).get("$defs", {})

    def definition(self, document: str, name: str) -> dict[str, Any]:
        return self.documents[document]["$defs"][name]

    def defaults(self, document: str, name: str | None) -> dict[str, Any]:
        """The ``default`` of every property of a $defs entry that declares one."""
        if name is None or not self.has(document, name):
            return {}
        properties = self.definition(document, name).get("properties", {})
        return {k: copy.deepcopy(p["default"]) for k, p in properties.items() if "default" in p}

    def field_order(self, document: str, name: str | None) -> tuple[str, ...]:
        """The property names of a $defs entry, in declaration order, without write-only ones
        (worked out once: serializers ask on every request)."""
        found = self._field_orders.get((document, name))
        if found is None:
            known = name is not None and self.has(document, name)
            properties = self.definition(document, name).get("properties", {}) if known else {}
            found = tuple(k for k, p in properties.items() if not p.get("writeOnly"))
            self._field_orders[(document, name)] = found
        return found

    @cached_property
    def registry(self) -> Any:
        from referencing import Registry, Resource

        return Registry().with_resources(
            (name, Resource.from_contents(doc)) for name, doc in self.documents.items()
        )

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        """A Python validator: slow, but its errors carry what DRF's messages need."""
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema, registry=self.registry, format_checker=_format_checker())

    def fast_validator(self, schema: dict[str, Any]) -> Any:
        """A compiled (Rust) validator for the same schema: the answer to "is it valid?" on every
        request costs microseconds instead of milliseconds."""
        return jsonschema_rs.validator_for(schema, registry=self.fast_registry, validate_formats=True)


def ref(document: str, name: str) -> dict[str, str]:
    return {"$ref": f"{document}#/$defs/{name}"}


class CompiledChecks:
    """An operation's validators, compiled on first use, and its response check: what the
    catalog's contracts and the imported operations' share (``schemas`` is either registry)."""

    schemas: Any
    query_schema: dict[str, Any] | None
    body_schema: dict[str, Any] | None
    response_schema: dict[str, Any] | None

    @property
    def validated_body(self) -> Any:
        """The schema a request body is validated against."""
        return self.body_schema

    @cached_property
    def query_validator(self) -> Validators | None:
        return Validators(self.schemas, self.query_schema) if self.query_schema else None

    @cached_property
    def body_validator(self) -> Validators | None:
        schema = self.validated_body
        return Validators(self.schemas, schema) if schema else None

    @cached_property
    def response_validator(self) -> Any:
        return self.schemas.fast_validator(self.response_schema) if self.response_schema else None

    def check_response(self, body: Any) -> str | None:
        """The first place where a response body breaks its schema, or None."""
        if self.response_validator is None or self.response_validator.is_valid(body):
            return None
        error = next(iter(self.response_validator.iter_errors(body)), None)
        if error is None:
            return None
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
        return f"{where}: {error.message}"


class OperationContract(CompiledChecks):
    """The request and response checks of one operation, built once and reused."""

    def __init__(self, schemas: Schemas, op: Operation) -> None:
        self.op = op
        self.schemas = schemas
        document = f"{op.resource.schema}.json"
        self.document = document
        # Each schema is resolved on first use (most operations of a run are never called); that
        # every one it names exists is checked now, so a misspelt name stays a start-up error.
        for name in (op.query, op.request):
            if name is not None and not schemas.has(document, name):
                raise KeyError(f"schemas/{document} has no $defs/{name}")

    @cached_property
    def query_schema(self) -> dict[str, Any] | None:
        return _resolved(self.schemas, self.document, self.op.query)

    @cached_property
    def body_schema(self) -> dict[str, Any] | None:
        schema = _resolved(self.schemas, self.document, self.op.request)
        if schema is not None and self.op.action == "partial_update":
            schema = {k: v for k, v in schema.items() if k != "required"}
        return schema

    @cached_property
    def response_schema(self) -> dict[str, Any] | None:
        op = self.op
        if op.response is None or op.response == "binary":
            return None
        if op.response == "page":
            page = ref("common.json", PAGE_SCHEMAS[op.resource.pagination])
            items = ref(self.document, op.resource.model or "")
            return {"allOf": [page], "properties": {"results": {"items": items}}}
        return ref(self.document, op.response)

    def check_query(self, query: dict[str, str]) -> dict[str, Any]:
        """Coerce and validate the query string; lenient parameters fall back to their default."""
        if self.query_schema is None:
            return dict(query)
        values = _coerce(self.query_schema.get("properties", {}), query)
        for name, prop in self._lenient_query:
            if name in values and not _valid_alone(prop, values[name]):
                del values[name]
        _raise_first(self.query_validator, self.query_schema, values)
        return values

    @cached_property
    def _lenient_query(self) -> list[tuple[str, dict[str, Any]]]:
        properties = (self.query_schema or {}).get("properties", {})
        return [(name, prop) for name, prop in properties.items() if prop.get("x-lenient")]

    def check_body(self, body: Any, strict: bool = False) -> tuple[Any, list[str]]:
        """Coerce and validate a JSON body: (the values the view sees, fields it does not know).

        PostHog ignores fields its serializer does not declare, and so does mockhog unless
        ``strict``, which rejects the first one.
        """
        if self.body_schema is None:
            return body, []
        if body is None:
            raise errors.validation_error("This field may not be null.", code="null")
        if not isinstance(body, dict) and self.body_schema.get("type") == "object":
            raise errors.validation_error(
                f"Invalid data. Expected a dictionary, but got {type(body).__name__}."
            )
        properties = self.body_schema.get("properties", {})
        body = nest_form_fields(properties, body)
        unknown = []
        if properties and self.body_schema.get("additionalProperties", True) is not False:
            unknown = [k for k in body if k not in properties and k != "personal_api_key"]
        if strict and unknown:
            raise errors.validation_error(
                f"Unknown field '{unknown[0]}': PostHog ignores it; mockhog --strict rejects it.",
                unknown[0],
                "unknown_field",
            )
        values = _coerce(properties, body, numbers=not strict)
        readonly = {name for name, prop in properties.items() if prop.get("readOnly")}
        values = {k: v for k, v in values.items() if k not in readonly}
        refuse_null_characters(properties, values)
        _raise_first(self.body_validator, self.body_schema, values)
        if properties:
            values = {k: v for k, v in values.items() if k in properties}
        return values, unknown


class Validators:
    """A schema's fast validator, and the Python one that words DRF's error when it fails."""

    def __init__(self, schemas: Schemas, schema: dict[str, Any]) -> None:
        self.fast = schemas.fast_validator(schema)
        self.schema = schema
        self._schemas = schemas

    @cached_property
    def detailed(self) -> Draft202012Validator:
        return self._schemas.validator(self.schema)


class Contract:
    """The contracts of every operation in the catalog."""

    def __init__(self, catalog: Catalog, schemas: Schemas | None = None) -> None:
        self.schemas = schemas or Schemas()
        self.by_operation: dict[Any, Any] = {
            op: OperationContract(self.schemas, op) for op in catalog.operations
        }
        self.spec_schemas: Any = None

    def add_spec(self, spec_schemas: Any) -> None:
        """Serve the imported operations' checks too (mockhog.spec.checks), built on first use."""
        self.spec_schemas = spec_schemas

    def __getitem__(self, op: Any) -> Any:
        found = self.by_operation.get(op)
        if found is None:
            from .spec.checks import SpecContract

            found = self.by_operation[op] = SpecContract(self.spec_schemas, op)
        return found

    def check_record(self, resource: str, model: str, record: dict[str, Any]) -> str | None:
        """Where a stored record breaks its model schema (for fixtures), or None."""
        validator = self.schemas.validator(ref(f"{resource}.json", model))
        error = next(iter(validator.iter_errors(record)), None)
        if error is None:
            return None
        path = "__".join(str(p) for p in error.absolute_path)
        return f"{path or '(record)'}: {error.message}"


def _resolved(schemas: Schemas, document: str, name: str | None) -> dict[str, Any] | None:
    """A $defs entry with its own refs made absolute, so it can be copied and changed."""
    if name is None:
        return None
    if not schemas.has(document, name):
        raise KeyError(f"schemas/{document} has no $defs/{name}")
    schema = _absolute_refs(copy.deepcopy(schemas.definition(document, name)), document)
    # Top-level properties are inlined so coercion can see their types.
    for prop_name, prop in schema.get("properties", {}).items():
        if "$ref" in prop:
            target_doc, _, pointer = prop["$ref"].partition("#/$defs/")
            inlined = _absolute_refs(copy.deepcopy(schemas.definition(target_doc, pointer)), target_doc)
            schema["properties"][prop_name] = {**inlined, **{k: v for k, v in prop.items() if k != "$ref"}}
    return schema


def _absolute_refs(node: Any, document: str) -> Any:
    if isinstance(node, dict):
        return {
            k: (f"{document}{v}" if k == "$ref" and v.startswith("#") else _absolute_refs(v, document))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(v, document) for v in node]
    return node


NO_NULL_CHARACTER = "^[^\\x00]*$"  # what the published document says of text fields


def takes_text(prop: dict[str, Any]) -> bool:
    """Whether a body field is text that DRF's CharField reads (and so refuses a null character:
    its ProhibitNullCharactersValidator, as Postgres cannot store one); read-only fields are not
    read at all. A file (``format: binary``, DRF's FileField) is no text: its bytes are its own."""
    return (
        "string" in _types(prop)
        and "enum" not in prop
        and not prop.get("readOnly")
        and prop.get("format") != "binary"
    )


# the texts of JSON numbers DRF's CharField makes (``str``): whole ones, then the rest
WHOLE_NUMBER_TEXTS = ("0", "7", "-12", "100000000000000000000")
OTHER_NUMBER_TEXTS = ("1.5", "-0.25", "1e-05", "-1.7976931348623157e+308")


def numbers_taken(prop: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON numbers a text field takes, as the type (and bounds) they add to its schema, or
    None: DRF's CharField takes a number as its ``str`` (``_coerce``), which fits where no format,
    text-only alternatives or pattern ask more of it. Every number's text has at most 24
    characters (``-1.7976931348623157e+308``); under a shorter maxLength only the integers whose
    text fits are published (a float's text has no length its value bounds)."""
    if not (
        takes_text(prop)
        and "x-no-trim" not in prop
        and "format" not in prop
        and prop.get("minLength", 0) <= 1
        and not {"number", "integer"} & set(_types(prop))
    ):
        return None
    alternatives = [*prop.get("anyOf", []), *prop.get("oneOf", [])]
    if alternatives and not any({"number", "integer"} & set(_types(branch)) for branch in alternatives):
        return None  # the alternatives are for text only
    length, pattern = prop.get("maxLength", 24), prop.get("pattern")
    if length < 24:
        if length < 1 or pattern is not None or {"minimum", "maximum"} & set(prop):
            return None
        return {"type": "integer", "minimum": -(10 ** (length - 1) - 1), "maximum": 10**length - 1}
    if pattern is None:
        return {"type": "number"}

    def fit(texts: tuple[str, ...]) -> bool:
        return all(re.search(pattern, text) for text in texts)

    if fit(WHOLE_NUMBER_TEXTS):
        return {"type": "number" if fit(OTHER_NUMBER_TEXTS) else "integer"}
    return None


def takes_bits(prop: dict[str, Any]) -> bool:
    """Whether a body field is a flag that takes ``0`` and ``1`` too (DRF's BooleanField lists
    both among its false and true values, as ``_coerce`` does)."""
    return "boolean" in _types(prop) and "enum" not in prop and not prop.get("readOnly")


def refuse_null_characters(properties: dict[str, Any], values: dict[str, Any]) -> None:
    """DRF's 400 for the first top-level text field holding a null character (a field the view
    itself reads as text, ``x-view``, as the published document states it: Postgres cannot store
    one)."""
    for name, value in values.items():
        prop = properties.get(name, {})
        if isinstance(value, str) and "\x00" in value and takes_text({**prop, **prop.get("x-view", {})}):
            raise errors.validation_error(
                "Null characters are not allowed.", name, "null_characters_not_allowed"
            )


def _types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _coerce(properties: dict[str, Any], data: dict[str, Any], numbers: bool = True) -> dict[str, Any]:
    """What DRF's fields would make of top-level values before validating them. Without
    ``numbers`` (``--strict``), a JSON number is no text and no flag: the types PostHog's document
    states, which a strict server publishes and holds clients to (a form body has no numbers)."""
    out = dict(data)
    for name, value in data.items():
        prop = properties.get(name)
        if prop is None or value is None:
            continue
        if isinstance(value, FormFile):
            if prop.get("format") != "binary" and not prop.get("readOnly"):
                message, code = _file_refusal(prop, value)
                raise errors.validation_error(message, name, code)
            continue
        if prop.get("format") == "binary" and not prop.get("readOnly"):
            # DRF's FileField reads the value's name and size: no JSON value or form text has them
            raise errors.validation_error(
                "The submitted data was not a file. Check the encoding type on the form.", name, "invalid"
            )
        types = _types(prop)
        digits = decimal_digits(prop)
        if digits and (numbers or isinstance(value, str)) and not isinstance(value, dict | list):
            out[name] = drf_decimal(digits, value, name)
            continue
        if not numbers and isinstance(value, int | float) and not {"integer", "number"} & set(types):
            continue
        if "integer" in types and isinstance(value, str | float) and not isinstance(value, bool):
            if _INTEGER.match(str(value)):
                out[name] = int(float(value))
        elif "boolean" in types and isinstance(value, str | int | float) and not isinstance(value, bool):
            # DRF looks a flag up in sets of values, where 1.0 is 1
            text = str(int(value)) if isinstance(value, float) and value in (0, 1) else str(value)
            if text in _TRUE:
                out[name] = True
            elif text in _FALSE:
                out[name] = False
            elif isinstance(data, FormBody) and text in _FORM_NULL and "null" in types:
                out[name] = None
        elif "string" in types and "x-no-trim" not in prop:
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = str(value)
            elif isinstance(value, str) and prop.get("format") != "date-time":
                out[name] = value.strip()
    return out


def _file_refusal(prop: dict[str, Any], part: FormFile) -> tuple[str, str]:
    """(message, code) of DRF's field for a file sent where it expects a value: a choice is looked
    up by the file's name, a date or UUID fails to parse, a JSONField cannot dump it, and the rest
    refuse its type."""
    if "enum" in prop:
        return f'"{part}" is not a valid choice.', "invalid_choice"
    if prop.get("format") in _FORMAT_MESSAGES:
        return _FORMAT_MESSAGES[prop["format"]], "invalid"
    types = [t for t in _types(prop) if t != "null"]
    if not types:
        return "Value must be valid JSON.", "invalid"
    code, message = _type_error(types, part)
    return message, code


def decimal_digits(prop: dict[str, Any]) -> tuple[int, int] | None:
    """A DecimalField's (whole digits, decimal places), read back from the pattern drf-spectacular
    writes for it (``format: decimal``); None for any other field."""
    found = _DECIMAL_PATTERN.match(prop.get("pattern", "")) if prop.get("format") == "decimal" else None
    return (int(found[1]), int(found[2])) if found else None


def drf_decimal(digits: tuple[int, int], value: Any, name: str) -> str:
    """DRF's ``DecimalField.to_internal_value`` and ``to_representation``: a number or numeric text
    (its ``str``, stripped) checked for digits in total, decimal places and whole digits, in that
    order, and answered as text with exactly the field's decimal places (``"0.5"`` -> ``"0.50"``)."""
    whole, places = digits
    text = str(value).strip()

    def refuse(code: str, message: str) -> errors.ApiError:
        return errors.validation_error(message, name, code)

    if len(text) > _DECIMAL_MAX_STRING:
        raise refuse("max_string_length", "String value too large.")
    try:
        number = decimal.Decimal(text)
    except decimal.DecimalException:
        raise refuse("invalid", "A valid number is required.") from None
    if not number.is_finite():
        raise refuse("invalid", "A valid number is required.")
    _, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent >= 0:
        total, whole_digits, decimals = len(digit_tuple) + exponent, len(digit_tuple) + exponent, 0
    elif len(digit_tuple) > -exponent:
        total, whole_digits, decimals = len(digit_tuple), len(digit_tuple) + exponent, -exponent
    else:
        total, whole_digits, decimals = -exponent, 0, -exponent
    if total > whole + places:
        raise refuse("max_digits", f"Ensure that there are no more than {whole + places} digits in total.")
    if decimals > places:
        raise refuse("max_decimal_places", f"Ensure that there are no more than {places} decimal places.")
    if whole_digits > whole:
        raise refuse(
            "max_whole_digits", f"Ensure that there are no more than {whole} digits before the decimal point."
        )
    return f"{number.quantize(decimal.Decimal(1).scaleb(-places)):f}"


def _valid_alone(prop: dict[str, Any], value: Any) -> bool:
    """Whether a lenient (pagination) parameter is usable: an integer within its minimum."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= prop.get("minimum", value)


def only_missing(error: ValidationError, annotation: str) -> bool:
    """Whether a validation error only says that fields marked ``annotation`` (``readOnly`` in a
    request, ``writeOnly`` in a response) are missing: one schema serves both directions, and
    drf-spectacular lists a serializer's required fields once for both."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return False
    properties = error.schema.get("properties", {})
    missing = [name for name in error.validator_value if name not in error.instance]
    return bool(missing) and all(
        isinstance(properties.get(name), dict) and properties[name].get(annotation) for name in missing
    )


def _raise_first(validators: Validators | None, schema: dict[str, Any], data: Any) -> None:
    if isinstance(data, dict) and any(isinstance(value, FormFile) for value in data.values()):
        # a file is validated as its name (the compiled validator takes no str subclass)
        data = {key: str(value) if isinstance(value, FormFile) else value for key, value in data.items()}
    if validators is None or validators.fast.is_valid(data):
        return
    order = list(schema.get("properties", {}))
    found = [
        _drf_error(error)
        for error in validators.detailed.iter_errors(data)
        if not only_missing(error, "readOnly")  # a client never sends them, at any depth
    ]
    if not found:
        return

    def rank(item: tuple[list[str], str, str]) -> int:
        path = item[0]
        return order.index(path[0]) if path and path[0] in order else len(order)

    path, code, message = min(found, key=rank)
    raise errors.validation_error(message, "__".join(path) or None, code)


def _drf_error(error: ValidationError) -> tuple[list[str], str, str]:
    """An error as DRF would word it: (field path, code, message)."""
    path = [str(p) for p in error.absolute_path]
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        present = value if isinstance(value, dict) else {}
        missing = next(name for name in expected if name not in present)
        return path + [missing], "required", "This field is required."
    if (
        kind == "oneOf"
        and error.context
        and isinstance(error.schema, dict)
        and "discriminator" in error.schema
    ):
        return _tagged_error(error, error.schema["discriminator"]["propertyName"])
    if kind == "type" or (kind in ("enum", "anyOf") and value is None):
        return path, *_type_error(expected, value)
    if kind == "minLength" and expected == 1:
        return path, "blank", "This field may not be blank."
    if kind == "anyOf" and _needs_with(expected):
        # a field that needs another, as an anyOf of {required: [other]} and {not: {required:
        # [field]}}: a hog function mapping's inputs and its inputs_schema, worded as
        # posthog/cdp/validation.py's InputsSerializer words it ("Missing inputs_schema.")
        return path, "invalid", f"Missing {expected[0]['required'][0]}."
    if kind == "minItems" and expected == 1:
        return path, "empty", "This list may not be empty."
    custom = error.schema.get("x-drf-error") if isinstance(error.schema, dict) else None
    if kind == "pattern" and isinstance(custom, dict):
        # a serializer's own validate_<field> message, for a rule the schema can state
        return path, custom["code"], custom["detail"]
    if kind in _MESSAGES:
        code, template = _MESSAGES[kind]
        return path, code, template.format(expected=expected, value=value)
    if kind == "format":
        return path, "invalid", _FORMAT_MESSAGES.get(expected, f"Enter a valid {expected}.")
    if kind == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties", {})))
        return path + extra[:1], "invalid", "Unknown field."
    return path, "invalid", error.message


def _needs_with(branches: Any) -> bool:
    """Whether an anyOf says that one field needs another (see _drf_error)."""
    return (
        isinstance(branches, list)
        and len(branches) == 2
        and set(branches[0]) - {"type"} == {"required"}
        and set(branches[1]) - {"type"} == {"not"}
        and set(branches[1]["not"]) == {"required"}
    )


def _tagged_error(error: ValidationError, tag: str) -> tuple[list[str], str, str]:
    """A tagged union's error (a ``oneOf`` with a ``discriminator``) as the branch its tag names
    reports it; when no branch takes the tag, the tag's own refusal (not a valid choice)."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for found in branches.values():
        if not any(list(sub.relative_path) == [tag] for sub in found):
            return _drf_error(found[0])
    refusals = [sub for found in branches.values() for sub in found if list(sub.relative_path) == [tag]]
    return _drf_error(refusals[0])


# JSON Schema keyword -> DRF's code and message for it.
_MESSAGES = {
    "enum": ("invalid_choice", '"{value}" is not a valid choice.'),
    "maxLength": ("max_length", "Ensure this field has no more than {expected} characters."),
    "minLength": ("min_length", "Ensure this field has at least {expected} characters."),
    "minimum": ("min_value", "Ensure this value is greater than or equal to {expected}."),
    "maximum": ("max_value", "Ensure this value is less than or equal to {expected}."),
    "minItems": ("min_length", "Ensure this field has at least {expected} elements."),
    "maxItems": ("max_length", "Ensure this field has no more than {expected} elements."),
}
_FORMAT_MESSAGES = {
    "uuid": "Must be a valid UUID.",
    "email": "Enter a valid email address.",
    "uri": "Enter a valid URL.",
    "date": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    "time": "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].",
    "date-time": "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
}


def _type_error(expected: Any, value: Any) -> tuple[str, str]:
    if value is None:
        return "null", "This field may not be null."
    wanted = expected if isinstance(expected, str) else next(t for t in expected if t != "null")
    got = _PY_TYPE.get(type(value), type(value).__name__)
    if wanted == "integer":
        return "invalid", "A valid integer is required."
    if wanted == "number":
        return "invalid", "A valid number is required."
    if wanted == "boolean":
        return "invalid", "Must be a valid boolean."
    if wanted == "string":
        return "invalid", "Not a valid string."
    if wanted == "array":
        return "not_a_list", f'Expected a list of items but got type "{got}".'
    return "invalid", f"Invalid data. Expected a dictionary, but got {got}."

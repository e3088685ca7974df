"""Exact numbers on the wire. A price is taken as ``int``, ``float``, ``Decimal``, a decimal string
or a numpy/pandas scalar, held as a ``Decimal`` with exactly its digits (a float by its shortest
repr, as JSON writes it), and sent as a JSON *number* with those digits: ``Decimal('75.43')`` is
``75.43`` on the wire, never ``75.42999999999999``. Quantities are whole numbers."""

import json
import math
import numbers
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Optional, Union

from ._core import QuantEnergxError

__all__ = ['Price', 'as_number', 'as_price', 'as_quantity', 'as_int', 'dumps']

#: what a price may be given as (numpy and pandas scalars too: they are ``numbers.Real``)
Price = Union[int, float, Decimal, str]

_DECIMAL = re.compile(r'[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?')


def as_number(value: Any, field: str, code: str = 'INVALID_PAYLOAD') -> Union[int, Decimal]:
    """``value`` as an exact ``int`` or ``Decimal``; anything else is a ``QuantEnergxError``
    (``code``, naming ``field``). Booleans, NaN and infinities are refused."""
    if isinstance(value, bool) or value is None:
        raise _not_a_number(value, field, code)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _not_a_number(value, field, code)
        return value
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            raise QuantEnergxError(code, '{} must be a decimal number such as 75.25, got {!r}'.format(field, value), field=field)
        return Decimal(text)
    if isinstance(value, numbers.Integral):  # numpy integers
        return int(value)
    if isinstance(value, numbers.Real):  # float, numpy floats
        as_float = float(value)
        if not math.isfinite(as_float):
            raise _not_a_number(value, field, code)
        try:
            return Decimal(repr(as_float))
        except InvalidOperation:  # pragma: no cover - repr of a finite float is always a decimal
            raise _not_a_number(value, field, code)
    raise _not_a_number(value, field, code)


def _not_a_number(value: Any, field: str, code: str) -> QuantEnergxError:
    return QuantEnergxError(code, '{} must be a finite number (int, float, Decimal, a decimal string or a numpy/pandas '
                                  'scalar), got {!r}'.format(field, value), field=field)


def as_price(value: Any, field: str = 'price', code: str = 'INVALID_ORDER') -> Decimal:
    """A price, exactly, as a ``Decimal``."""
    number = as_number(value, field, code)
    return Decimal(number) if isinstance(number, int) else number


def as_quantity(value: Any, field: str = 'quantity', code: str = 'INVALID_ORDER') -> int:
    """A whole number of units (``10``, ``np.int64(10)``, ``10.0``, ``Decimal('10')``); a fraction is refused."""
    number = as_number(value, field, code)
    if isinstance(number, Decimal):
        if number != number.to_integral_value():
            raise QuantEnergxError(code, '{} must be a whole number of units, got {}'.format(field, value), field=field)
        return int(number)
    return number


def as_int(value: Any, field: str, code: str = 'INVALID_PAYLOAD') -> int:
    """An integer argument (a depth, a limit, a seq), numpy integers included."""
    return as_quantity(value, field, code)


def _decimal_text(value: Decimal) -> str:
    text = format(value, 'f')
    return '0' if text in ('-0', '+0') else text


def dumps(obj: Any) -> str:
    """JSON with every ``Decimal`` (and numpy/pandas scalar) written as a number with exactly its
    digits, which ``json.dumps`` cannot do."""
    exact: Dict[str, str] = {}
    token = uuid.uuid4().hex

    def encode(o: Any) -> Any:
        number: Optional[Union[int, Decimal]] = None
        if isinstance(o, Decimal) or (isinstance(o, numbers.Number) and not isinstance(o, (int, float, bool))):
            number = as_number(o, 'value')
        if number is None:
            raise TypeError('Object of type {} is not JSON serializable'.format(type(o).__name__))
        if isinstance(number, int):
            return number
        key = '{}:{}'.format(token, len(exact))
        exact[key] = _decimal_text(number)
        return key

    text = json.dumps(obj, default=encode, separators=(',', ':'))
    if not exact:
        return text
    return re.sub('"({}:\\d+)"'.format(token), lambda m: exact[m.group(1)], text)

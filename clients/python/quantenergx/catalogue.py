"""The commodity catalogue as typed objects, with exact tick arithmetic.

    crude = api.commodity('crude_oil')
    crude.tick_size                     # Decimal('0.01')
    crude.round_price(ask + 0.05)       # Decimal('75.43'): on the grid, whatever the float said
    api.place_order('crude_oil', 'buy', 10, price=crude.round_price(ask + 0.05))
"""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Dict, Mapping

from ._core import QuantEnergxError
from ._numbers import as_price

__all__ = ['Commodity']

_ROUNDING = {'nearest': ROUND_HALF_EVEN, 'down': ROUND_FLOOR, 'up': ROUND_CEILING}


@dataclass(frozen=True)
class Commodity:
    """One commodity of ``GET /api/v1/market/commodities``: prices in ``Decimal``, exactly."""

    symbol: str
    name: str
    unit: str
    currency: str
    tick_size: Decimal
    contract_size: Decimal
    reference_price: Decimal
    position_limit: int
    max_order_size: int
    extra: Dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> 'Commodity':
        """A commodity from the gateway's JSON object (camelCase keys); unknown keys go to ``extra``."""
        known = {'symbol', 'name', 'unit', 'currency', 'tickSize', 'contractSize', 'referencePrice', 'positionLimit',
                 'maxOrderSize'}
        missing = sorted(known - set(data))
        if missing:
            raise QuantEnergxError('INVALID_RESPONSE', 'commodity without {}'.format(', '.join(missing)))
        return cls(str(data['symbol']), str(data['name']), str(data['unit']), str(data['currency']),
                   as_price(data['tickSize'], 'tickSize', 'INVALID_RESPONSE'),
                   as_price(data['contractSize'], 'contractSize', 'INVALID_RESPONSE'),
                   as_price(data['referencePrice'], 'referencePrice', 'INVALID_RESPONSE'),
                   int(data['positionLimit']), int(data['maxOrderSize']),
                   {k: v for k, v in data.items() if k not in known})

    @property
    def decimals(self) -> int:
        """Decimals of the tick size (``0.01`` → 2): how prices of this commodity are written."""
        exponent = self.tick_size.normalize().as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0

    def round_price(self, price: Any, mode: str = 'nearest') -> Decimal:
        """``price`` (a float, Decimal, int, decimal string or numpy scalar) on this commodity's tick
        grid: to the ``nearest`` tick (ties to even), or ``down`` / ``up``. Exact: a ``Decimal``."""
        if mode not in _ROUNDING:
            raise QuantEnergxError('INVALID_PAYLOAD', "mode must be 'nearest', 'down' or 'up'", field='mode')
        ticks = (as_price(price, 'price', 'INVALID_PAYLOAD') / self.tick_size).to_integral_value(rounding=_ROUNDING[mode])
        return (ticks * self.tick_size).quantize(Decimal(1).scaleb(-self.decimals))

    def on_tick(self, price: Any) -> bool:
        """Whether ``price`` is a whole number of ticks (what the gateway accepts)."""
        value = as_price(price, 'price', 'INVALID_PAYLOAD')
        return value % self.tick_size == 0

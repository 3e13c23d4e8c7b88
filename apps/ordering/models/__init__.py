"""The ordering app's tables: the catalog and its prices, stock, carts and orders, and the money side."""

from apps.ordering.models.catalog import (
    Category,
    PriceList,
    PriceListItem,
    Product,
    ProductVisibility,
    StockLevel,
    Warehouse,
)
from apps.ordering.models.money import AccountEntry, CreditLimit, Payment, PaymentAllocation
from apps.ordering.models.orders import (
    Address,
    CartLine,
    Order,
    OrderEvent,
    OrderingSettings,
    OrderLine,
    Shipment,
    ShipmentLine,
)

__all__ = [
    "AccountEntry",
    "Address",
    "CartLine",
    "Category",
    "CreditLimit",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderingSettings",
    "Payment",
    "PaymentAllocation",
    "PriceList",
    "PriceListItem",
    "Product",
    "ProductVisibility",
    "Shipment",
    "ShipmentLine",
    "StockLevel",
    "Warehouse",
]

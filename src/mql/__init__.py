"""mql: marketing-qualified leads for professional services firms."""

from mql.errors import (
    EngineError,
    InputError,
    LifecycleError,
    ModelError,
    MqlError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "EngineError",
    "InputError",
    "LifecycleError",
    "ModelError",
    "MqlError",
    "StoreError",
    "__version__",
]

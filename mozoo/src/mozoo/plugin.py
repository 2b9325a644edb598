"""motools plugin entry module: registers only; the work lives in lazily imported modules."""

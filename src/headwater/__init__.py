"""headwater: AWS serverless services on your own machines, over the real AWS wire protocols."""

__version__ = "0.1.0"

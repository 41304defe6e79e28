"""The AWS wire, generic and driven by botocore's service models.

- ``http``      a neutral view of an HTTP request and response
- ``specs``     which services exist, their models and protocols
- ``detect``    which service and operation a request is for
- ``sigv4``     signature verification (botocore computes the expected signature)
- ``parse``     request -> parameter dict, one module per protocol
- ``serialize`` result dict or ``ServiceError`` -> response, one module per protocol
- ``dispatch``  operation -> adapter method; a missing one answers 501 naming it
"""

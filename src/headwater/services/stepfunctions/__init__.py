"""AWS Step Functions: the Amazon States Language engine (and, later, its API and driver).

So far: ``asl`` (definitions -> programs), ``engine`` (the pure transition function),
``runner`` (drives the engine in memory, for ``headwater sfn run`` and tests). The service is
not registered with the gateway yet.
"""

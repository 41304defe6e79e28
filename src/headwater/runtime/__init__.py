"""Executors: where function code runs.

``executor`` is the seam every caller uses (``Executor``, ``FunctionSpec``,
``InvocationResult``); ``local`` runs handlers in warm worker processes on this machine;
``host`` is the worker side of it; ``code`` unpacks deployment packages and watches code
folders.  Nothing is imported here on purpose: ``host`` runs inside every worker process and
must not pull the server's modules into the user's interpreter.
"""

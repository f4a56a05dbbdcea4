"""Serving: the request schema, the Bento build, the server's lifetime, the load-test gate.

The BentoML service itself is ``lifecycle.serving.service``; these modules hold what it and the
``build``, ``serve`` and ``loadtest`` verbs share. None of them imports BentoML at import time.
"""

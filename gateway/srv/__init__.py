"""Service requests: the catalogue of every DUIS 5.4 variant and the codecs that serve them.

- :mod:`gateway.srv.table`: one row a variant (name, body, flags, roles, GBCS use cases).
- :mod:`gateway.srv.spec`: the row and the codec types.
- :mod:`gateway.srv.catalogue`: rows joined with codecs - :data:`~gateway.srv.catalogue.CATALOGUE`.
- family modules, one a group of use cases: :mod:`~gateway.srv.reading`,
  :mod:`~gateway.srv.tariff`, :mod:`~gateway.srv.supply`, :mod:`~gateway.srv.configuration`,
  :mod:`~gateway.srv.han`; each reads its DUIS bodies into typed requests and builds the GBCS
  content of their commands.

Nothing is imported here, so that a family module can be imported without the catalogue.
"""

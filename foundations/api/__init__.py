"""REST API plumbing every app's API shares, one module per DRF concept: parsers, renderers,
pagination, throttling, filters, serializers, exceptions, viewsets and the OpenAPI schema.
Apps keep their serializers and views in `<app>/api.py`; the router and the API root are
composition, in `adminassistant/api_root.py`.

One import-order rule is real: DRF reads the classes REST_FRAMEWORK names for its views' class
attributes while it defines `APIView` and `GenericAPIView` (parsers, renderers, authentication,
throttling, filter backends, pagination). So `parsers`, `renderers`, `pagination`,
`throttling` and `filters` (and `accounts.authentication`) import no DRF views, viewsets or
generics, nor any module that does (`exceptions`, `viewsets`): that would be a circular import.
The schema class and the exception handler are read only when a request or the schema asks
for them, so `schema` and `exceptions` may import DRF's views. This package's `__init__`
imports nothing, so importing one of its modules never drags in another.
"""

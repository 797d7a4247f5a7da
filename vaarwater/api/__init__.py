"""The HTTP API at ``/api/v1/`` (django-ninja), with its OpenAPI schema at ``/api/v1/docs``."""

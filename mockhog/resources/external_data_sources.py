"""TODO: being written."""

from .base import Resource


class ExternalDataSources(Resource):
    pass
